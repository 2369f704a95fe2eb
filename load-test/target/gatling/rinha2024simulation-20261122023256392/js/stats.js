var stats = {
    type: "GROUP",
name: "All Requests",
path: "",
pathFormatted: "group_missing-name--1146707516",
stats: {
    "name": "All Requests",
    "numberOfRequests": {
        "total": "3192",
        "ok": "3138",
        "ko": "54"
    },
    "minResponseTime": {
        "total": "0",
        "ok": "0",
        "ko": "0"
    },
    "maxResponseTime": {
        "total": "1229",
        "ok": "1229",
        "ko": "1034"
    },
    "meanResponseTime": {
        "total": "17",
        "ok": "16",
        "ko": "42"
    },
    "standardDeviation": {
        "total": "116",
        "ok": "115",
        "ko": "194"
    },
    "percentiles1": {
        "total": "1",
        "ok": "1",
        "ko": "2"
    },
    "percentiles2": {
        "total": "3",
        "ok": "3",
        "ko": "5"
    },
    "percentiles3": {
        "total": "11",
        "ok": "11",
        "ko": "37"
    },
    "percentiles4": {
        "total": "1016",
        "ok": "1015",
        "ko": "1028"
    },
    "group1": {
    "name": "t < 250 ms",
    "htmlName": "t < 250 ms",
    "count": 3099,
    "percentage": 97
},
    "group2": {
    "name": "250 ms <= t < 1200 ms",
    "htmlName": "t >= 250 ms <br> t < 1200 ms",
    "count": 38,
    "percentage": 1
},
    "group3": {
    "name": "t >= 1200 ms",
    "htmlName": "t >= 1200 ms",
    "count": 1,
    "percentage": 0
},
    "group4": {
    "name": "failed",
    "htmlName": "failed",
    "count": 54,
    "percentage": 2
},
    "meanNumberOfRequestsPerSecond": {
        "total": "168",
        "ok": "165.158",
        "ko": "2.842"
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
        "ok": "116",
        "ko": "7"
    },
    "minResponseTime": {
        "total": "0",
        "ok": "0",
        "ko": "5"
    },
    "maxResponseTime": {
        "total": "1071",
        "ok": "1071",
        "ko": "1034"
    },
    "meanResponseTime": {
        "total": "223",
        "ok": "218",
        "ko": "309"
    },
    "standardDeviation": {
        "total": "392",
        "ok": "387",
        "ko": "455"
    },
    "percentiles1": {
        "total": "42",
        "ok": "42",
        "ko": "25"
    },
    "percentiles2": {
        "total": "75",
        "ok": "73",
        "ko": "541"
    },
    "percentiles3": {
        "total": "1040",
        "ok": "1041",
        "ko": "1031"
    },
    "percentiles4": {
        "total": "1070",
        "ok": "1070",
        "ko": "1033"
    },
    "group1": {
    "name": "t < 250 ms",
    "htmlName": "t < 250 ms",
    "count": 95,
    "percentage": 77
},
    "group2": {
    "name": "250 ms <= t < 1200 ms",
    "htmlName": "t >= 250 ms <br> t < 1200 ms",
    "count": 21,
    "percentage": 17
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
    "count": 7,
    "percentage": 6
},
    "meanNumberOfRequestsPerSecond": {
        "total": "6.474",
        "ok": "6.105",
        "ko": "0.368"
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
        "ok": "1960",
        "ko": "23"
    },
    "minResponseTime": {
        "total": "0",
        "ok": "0",
        "ko": "0"
    },
    "maxResponseTime": {
        "total": "1229",
        "ok": "1229",
        "ko": "10"
    },
    "meanResponseTime": {
        "total": "9",
        "ok": "9",
        "ko": "3"
    },
    "standardDeviation": {
        "total": "80",
        "ok": "81",
        "ko": "3"
    },
    "percentiles1": {
        "total": "1",
        "ok": "1",
        "ko": "1"
    },
    "percentiles2": {
        "total": "3",
        "ok": "3",
        "ko": "3"
    },
    "percentiles3": {
        "total": "8",
        "ok": "8",
        "ko": "7"
    },
    "percentiles4": {
        "total": "25",
        "ok": "28",
        "ko": "9"
    },
    "group1": {
    "name": "t < 250 ms",
    "htmlName": "t < 250 ms",
    "count": 1948,
    "percentage": 98
},
    "group2": {
    "name": "250 ms <= t < 1200 ms",
    "htmlName": "t >= 250 ms <br> t < 1200 ms",
    "count": 11,
    "percentage": 1
},
    "group3": {
    "name": "t >= 1200 ms",
    "htmlName": "t >= 1200 ms",
    "count": 1,
    "percentage": 0
},
    "group4": {
    "name": "failed",
    "htmlName": "failed",
    "count": 23,
    "percentage": 1
},
    "meanNumberOfRequestsPerSecond": {
        "total": "104.368",
        "ok": "103.158",
        "ko": "1.211"
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
        "ok": "979",
        "ko": "14"
    },
    "minResponseTime": {
        "total": "0",
        "ok": "0",
        "ko": "1"
    },
    "maxResponseTime": {
        "total": "1030",
        "ok": "1030",
        "ko": "4"
    },
    "meanResponseTime": {
        "total": "9",
        "ok": "9",
        "ko": "2"
    },
    "standardDeviation": {
        "total": "79",
        "ok": "79",
        "ko": "1"
    },
    "percentiles1": {
        "total": "1",
        "ok": "1",
        "ko": "2"
    },
    "percentiles2": {
        "total": "3",
        "ok": "3",
        "ko": "2"
    },
    "percentiles3": {
        "total": "8",
        "ok": "8",
        "ko": "3"
    },
    "percentiles4": {
        "total": "22",
        "ok": "25",
        "ko": "4"
    },
    "group1": {
    "name": "t < 250 ms",
    "htmlName": "t < 250 ms",
    "count": 973,
    "percentage": 98
},
    "group2": {
    "name": "250 ms <= t < 1200 ms",
    "htmlName": "t >= 250 ms <br> t < 1200 ms",
    "count": 6,
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
    "count": 14,
    "percentage": 1
},
    "meanNumberOfRequestsPerSecond": {
        "total": "52.263",
        "ok": "51.526",
        "ko": "0.737"
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
        "ok": "83",
        "ko": "10"
    },
    "minResponseTime": {
        "total": "0",
        "ok": "0",
        "ko": "0"
    },
    "maxResponseTime": {
        "total": "35",
        "ok": "35",
        "ko": "11"
    },
    "meanResponseTime": {
        "total": "3",
        "ok": "3",
        "ko": "3"
    },
    "standardDeviation": {
        "total": "4",
        "ok": "4",
        "ko": "3"
    },
    "percentiles1": {
        "total": "2",
        "ok": "2",
        "ko": "1"
    },
    "percentiles2": {
        "total": "4",
        "ok": "4",
        "ko": "2"
    },
    "percentiles3": {
        "total": "9",
        "ok": "9",
        "ko": "8"
    },
    "percentiles4": {
        "total": "14",
        "ok": "16",
        "ko": "10"
    },
    "group1": {
    "name": "t < 250 ms",
    "htmlName": "t < 250 ms",
    "count": 83,
    "percentage": 89
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
    "count": 10,
    "percentage": 11
},
    "meanNumberOfRequestsPerSecond": {
        "total": "4.895",
        "ok": "4.368",
        "ko": "0.526"
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
