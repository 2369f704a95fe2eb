var stats = {
    type: "GROUP",
name: "All Requests",
path: "",
pathFormatted: "group_missing-name--1146707516",
stats: {
    "name": "All Requests",
    "numberOfRequests": {
        "total": "3192",
        "ok": "3115",
        "ko": "77"
    },
    "minResponseTime": {
        "total": "0",
        "ok": "0",
        "ko": "0"
    },
    "maxResponseTime": {
        "total": "1063",
        "ok": "1063",
        "ko": "1038"
    },
    "meanResponseTime": {
        "total": "14",
        "ok": "14",
        "ko": "29"
    },
    "standardDeviation": {
        "total": "106",
        "ok": "104",
        "ko": "162"
    },
    "percentiles1": {
        "total": "1",
        "ok": "1",
        "ko": "1"
    },
    "percentiles2": {
        "total": "3",
        "ok": "3",
        "ko": "4"
    },
    "percentiles3": {
        "total": "9",
        "ok": "9",
        "ko": "16"
    },
    "percentiles4": {
        "total": "1008",
        "ok": "886",
        "ko": "1016"
    },
    "group1": {
    "name": "t < 250 ms",
    "htmlName": "t < 250 ms",
    "count": 3083,
    "percentage": 97
},
    "group2": {
    "name": "250 ms <= t < 1200 ms",
    "htmlName": "t >= 250 ms <br> t < 1200 ms",
    "count": 32,
    "percentage": 1
},
    "group3": {
    "name": "t >= 1200 ms",
    "htmlName": "t >= 1200 ms",
    "count": 0,
    "percentage": 0
},
    "group4": {
    "name": "failed",
    "htmlName": "failed",
    "count": 77,
    "percentage": 2
},
    "meanNumberOfRequestsPerSecond": {
        "total": "168",
        "ok": "163.947",
        "ko": "4.053"
    }
},
contents: {
"req_validac-o-es--40002687": {
        type: "REQUEST",
        name: "validações",
path: "validações",
pathFormatted: "req_validac-o-es--40002687",
stats: {
    "name": "validações",
    "numberOfRequests": {
        "total": "123",
        "ok": "117",
        "ko": "6"
    },
    "minResponseTime": {
        "total": "0",
        "ok": "0",
        "ko": "4"
    },
    "maxResponseTime": {
        "total": "1063",
        "ok": "1063",
        "ko": "1038"
    },
    "meanResponseTime": {
        "total": "244",
        "ok": "238",
        "ko": "349"
    },
    "standardDeviation": {
        "total": "413",
        "ok": "408",
        "ko": "477"
    },
    "percentiles1": {
        "total": "44",
        "ok": "45",
        "ko": "17"
    },
    "percentiles2": {
        "total": "84",
        "ok": "80",
        "ko": "761"
    },
    "percentiles3": {
        "total": "1049",
        "ok": "1049",
        "ko": "1031"
    },
    "percentiles4": {
        "total": "1061",
        "ok": "1061",
        "ko": "1037"
    },
    "group1": {
    "name": "t < 250 ms",
    "htmlName": "t < 250 ms",
    "count": 93,
    "percentage": 76
},
    "group2": {
    "name": "250 ms <= t < 1200 ms",
    "htmlName": "t >= 250 ms <br> t < 1200 ms",
    "count": 24,
    "percentage": 20
},
    "group3": {
    "name": "t >= 1200 ms",
    "htmlName": "t >= 1200 ms",
    "count": 0,
    "percentage": 0
},
    "group4": {
    "name": "failed",
    "htmlName": "failed",
    "count": 6,
    "percentage": 5
},
    "meanNumberOfRequestsPerSecond": {
        "total": "6.474",
        "ok": "6.158",
        "ko": "0.316"
    }
}
    },"req_de-bitos-1025427916": {
        type: "REQUEST",
        name: "débitos",
path: "débitos",
pathFormatted: "req_de-bitos-1025427916",
stats: {
    "name": "débitos",
    "numberOfRequests": {
        "total": "1983",
        "ok": "1934",
        "ko": "49"
    },
    "minResponseTime": {
        "total": "0",
        "ok": "0",
        "ko": "0"
    },
    "maxResponseTime": {
        "total": "1036",
        "ok": "1036",
        "ko": "20"
    },
    "meanResponseTime": {
        "total": "5",
        "ok": "5",
        "ko": "2"
    },
    "standardDeviation": {
        "total": "51",
        "ok": "52",
        "ko": "3"
    },
    "percentiles1": {
        "total": "1",
        "ok": "1",
        "ko": "1"
    },
    "percentiles2": {
        "total": "2",
        "ok": "2",
        "ko": "2"
    },
    "percentiles3": {
        "total": "6",
        "ok": "6",
        "ko": "5"
    },
    "percentiles4": {
        "total": "13",
        "ok": "13",
        "ko": "14"
    },
    "group1": {
    "name": "t < 250 ms",
    "htmlName": "t < 250 ms",
    "count": 1929,
    "percentage": 97
},
    "group2": {
    "name": "250 ms <= t < 1200 ms",
    "htmlName": "t >= 250 ms <br> t < 1200 ms",
    "count": 5,
    "percentage": 0
},
    "group3": {
    "name": "t >= 1200 ms",
    "htmlName": "t >= 1200 ms",
    "count": 0,
    "percentage": 0
},
    "group4": {
    "name": "failed",
    "htmlName": "failed",
    "count": 49,
    "percentage": 2
},
    "meanNumberOfRequestsPerSecond": {
        "total": "104.368",
        "ok": "101.789",
        "ko": "2.579"
    }
}
    },"req_extratos--1809255608": {
        type: "REQUEST",
        name: "extratos",
path: "extratos",
pathFormatted: "req_extratos--1809255608",
stats: {
    "name": "extratos",
    "numberOfRequests": {
        "total": "93",
        "ok": "84",
        "ko": "9"
    },
    "minResponseTime": {
        "total": "0",
        "ok": "0",
        "ko": "1"
    },
    "maxResponseTime": {
        "total": "21",
        "ok": "21",
        "ko": "12"
    },
    "meanResponseTime": {
        "total": "3",
        "ok": "3",
        "ko": "4"
    },
    "standardDeviation": {
        "total": "3",
        "ok": "3",
        "ko": "3"
    },
    "percentiles1": {
        "total": "2",
        "ok": "2",
        "ko": "3"
    },
    "percentiles2": {
        "total": "4",
        "ok": "3",
        "ko": "4"
    },
    "percentiles3": {
        "total": "6",
        "ok": "6",
        "ko": "11"
    },
    "percentiles4": {
        "total": "13",
        "ok": "9",
        "ko": "12"
    },
    "group1": {
    "name": "t < 250 ms",
    "htmlName": "t < 250 ms",
    "count": 84,
    "percentage": 90
},
    "group2": {
    "name": "250 ms <= t < 1200 ms",
    "htmlName": "t >= 250 ms <br> t < 1200 ms",
    "count": 0,
    "percentage": 0
},
    "group3": {
    "name": "t >= 1200 ms",
    "htmlName": "t >= 1200 ms",
    "count": 0,
    "percentage": 0
},
    "group4": {
    "name": "failed",
    "htmlName": "failed",
    "count": 9,
    "percentage": 10
},
    "meanNumberOfRequestsPerSecond": {
        "total": "4.895",
        "ok": "4.421",
        "ko": "0.474"
    }
}
    },"req_cre-ditos-1306955929": {
        type: "REQUEST",
        name: "créditos",
path: "créditos",
pathFormatted: "req_cre-ditos-1306955929",
stats: {
    "name": "créditos",
    "numberOfRequests": {
        "total": "993",
        "ok": "980",
        "ko": "13"
    },
    "minResponseTime": {
        "total": "0",
        "ok": "0",
        "ko": "0"
    },
    "maxResponseTime": {
        "total": "1030",
        "ok": "1030",
        "ko": "4"
    },
    "meanResponseTime": {
        "total": "5",
        "ok": "5",
        "ko": "2"
    },
    "standardDeviation": {
        "total": "56",
        "ok": "56",
        "ko": "1"
    },
    "percentiles1": {
        "total": "1",
        "ok": "1",
        "ko": "1"
    },
    "percentiles2": {
        "total": "2",
        "ok": "2",
        "ko": "2"
    },
    "percentiles3": {
        "total": "6",
        "ok": "6",
        "ko": "3"
    },
    "percentiles4": {
        "total": "12",
        "ok": "12",
        "ko": "4"
    },
    "group1": {
    "name": "t < 250 ms",
    "htmlName": "t < 250 ms",
    "count": 977,
    "percentage": 98
},
    "group2": {
    "name": "250 ms <= t < 1200 ms",
    "htmlName": "t >= 250 ms <br> t < 1200 ms",
    "count": 3,
    "percentage": 0
},
    "group3": {
    "name": "t >= 1200 ms",
    "htmlName": "t >= 1200 ms",
    "count": 0,
    "percentage": 0
},
    "group4": {
    "name": "failed",
    "htmlName": "failed",
    "count": 13,
    "percentage": 1
},
    "meanNumberOfRequestsPerSecond": {
        "total": "52.263",
        "ok": "51.579",
        "ko": "0.684"
    }
}
    }
}

}

function fillStats(stat){
    $("#numberOfRequests").append(stat.numberOfRequests.total);
    $("#numberOfRequestsOK").append(stat.numberOfRequests.ok);
    $("#numberOfRequestsKO").append(stat.numberOfRequests.ko);

    $("#minResponseTime").append(stat.minResponseTime.total);
    $("#minResponseTimeOK").append(stat.minResponseTime.ok);
    $("#minResponseTimeKO").append(stat.minResponseTime.ko);

    $("#maxResponseTime").append(stat.maxResponseTime.total);
    $("#maxResponseTimeOK").append(stat.maxResponseTime.ok);
    $("#maxResponseTimeKO").append(stat.maxResponseTime.ko);

    $("#meanResponseTime").append(stat.meanResponseTime.total);
    $("#meanResponseTimeOK").append(stat.meanResponseTime.ok);
    $("#meanResponseTimeKO").append(stat.meanResponseTime.ko);

    $("#standardDeviation").append(stat.standardDeviation.total);
    $("#standardDeviationOK").append(stat.standardDeviation.ok);
    $("#standardDeviationKO").append(stat.standardDeviation.ko);

    $("#percentiles1").append(stat.percentiles1.total);
    $("#percentiles1OK").append(stat.percentiles1.ok);
    $("#percentiles1KO").append(stat.percentiles1.ko);

    $("#percentiles2").append(stat.percentiles2.total);
    $("#percentiles2OK").append(stat.percentiles2.ok);
    $("#percentiles2KO").append(stat.percentiles2.ko);

    $("#percentiles3").append(stat.percentiles3.total);
    $("#percentiles3OK").append(stat.percentiles3.ok);
    $("#percentiles3KO").append(stat.percentiles3.ko);

    $("#percentiles4").append(stat.percentiles4.total);
    $("#percentiles4OK").append(stat.percentiles4.ok);
    $("#percentiles4KO").append(stat.percentiles4.ko);

    $("#meanNumberOfRequestsPerSecond").append(stat.meanNumberOfRequestsPerSecond.total);
    $("#meanNumberOfRequestsPerSecondOK").append(stat.meanNumberOfRequestsPerSecond.ok);
    $("#meanNumberOfRequestsPerSecondKO").append(stat.meanNumberOfRequestsPerSecond.ko);
}
