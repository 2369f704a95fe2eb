var stats = {
    type: "GROUP",
name: "All Requests",
path: "",
pathFormatted: "group_missing-name--1146707516",
stats: {
    "name": "All Requests",
    "numberOfRequests": {
        "total": "3192",
        "ok": "3176",
        "ko": "16"
    },
    "minResponseTime": {
        "total": "0",
        "ok": "0",
        "ko": "1"
    },
    "maxResponseTime": {
        "total": "6257",
        "ok": "6257",
        "ko": "1890"
    },
    "meanResponseTime": {
        "total": "301",
        "ok": "301",
        "ko": "454"
    },
    "standardDeviation": {
        "total": "673",
        "ok": "673",
        "ko": "610"
    },
    "percentiles1": {
        "total": "4",
        "ok": "4",
        "ko": "12"
    },
    "percentiles2": {
        "total": "34",
        "ok": "33",
        "ko": "1018"
    },
    "percentiles3": {
        "total": "2046",
        "ok": "2047",
        "ko": "1395"
    },
    "percentiles4": {
        "total": "2873",
        "ok": "2874",
        "ko": "1791"
    },
    "group1": {
    "name": "t < 250 ms",
    "htmlName": "t < 250 ms",
    "count": 2562,
    "percentage": 80
},
    "group2": {
    "name": "250 ms <= t < 1200 ms",
    "htmlName": "t >= 250 ms <br> t < 1200 ms",
    "count": 287,
    "percentage": 9
},
    "group3": {
    "name": "t >= 1200 ms",
    "htmlName": "t >= 1200 ms",
    "count": 327,
    "percentage": 10
},
    "group4": {
    "name": "failed",
    "htmlName": "failed",
    "count": 16,
    "percentage": 1
},
    "meanNumberOfRequestsPerSecond": {
        "total": "159.6",
        "ok": "158.8",
        "ko": "0.8"
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
        "ok": "123",
        "ko": "0"
    },
    "minResponseTime": {
        "total": "1",
        "ok": "1",
        "ko": "-"
    },
    "maxResponseTime": {
        "total": "1258",
        "ok": "1258",
        "ko": "-"
    },
    "meanResponseTime": {
        "total": "293",
        "ok": "293",
        "ko": "-"
    },
    "standardDeviation": {
        "total": "463",
        "ok": "463",
        "ko": "-"
    },
    "percentiles1": {
        "total": "32",
        "ok": "32",
        "ko": "-"
    },
    "percentiles2": {
        "total": "187",
        "ok": "187",
        "ko": "-"
    },
    "percentiles3": {
        "total": "1244",
        "ok": "1244",
        "ko": "-"
    },
    "percentiles4": {
        "total": "1254",
        "ok": "1254",
        "ko": "-"
    },
    "group1": {
    "name": "t < 250 ms",
    "htmlName": "t < 250 ms",
    "count": 94,
    "percentage": 76
},
    "group2": {
    "name": "250 ms <= t < 1200 ms",
    "htmlName": "t >= 250 ms <br> t < 1200 ms",
    "count": 19,
    "percentage": 15
},
    "group3": {
    "name": "t >= 1200 ms",
    "htmlName": "t >= 1200 ms",
    "count": 10,
    "percentage": 8
},
    "group4": {
    "name": "failed",
    "htmlName": "failed",
    "count": 0,
    "percentage": 0
},
    "meanNumberOfRequestsPerSecond": {
        "total": "6.15",
        "ok": "6.15",
        "ko": "-"
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
        "ok": "1971",
        "ko": "12"
    },
    "minResponseTime": {
        "total": "0",
        "ok": "0",
        "ko": "2"
    },
    "maxResponseTime": {
        "total": "6254",
        "ok": "6254",
        "ko": "1230"
    },
    "meanResponseTime": {
        "total": "298",
        "ok": "297",
        "ko": "446"
    },
    "standardDeviation": {
        "total": "666",
        "ok": "667",
        "ko": "523"
    },
    "percentiles1": {
        "total": "3",
        "ok": "3",
        "ko": "16"
    },
    "percentiles2": {
        "total": "28",
        "ok": "27",
        "ko": "1018"
    },
    "percentiles3": {
        "total": "2047",
        "ok": "2047",
        "ko": "1118"
    },
    "percentiles4": {
        "total": "2813",
        "ok": "2820",
        "ko": "1208"
    },
    "group1": {
    "name": "t < 250 ms",
    "htmlName": "t < 250 ms",
    "count": 1594,
    "percentage": 80
},
    "group2": {
    "name": "250 ms <= t < 1200 ms",
    "htmlName": "t >= 250 ms <br> t < 1200 ms",
    "count": 178,
    "percentage": 9
},
    "group3": {
    "name": "t >= 1200 ms",
    "htmlName": "t >= 1200 ms",
    "count": 199,
    "percentage": 10
},
    "group4": {
    "name": "failed",
    "htmlName": "failed",
    "count": 12,
    "percentage": 1
},
    "meanNumberOfRequestsPerSecond": {
        "total": "99.15",
        "ok": "98.55",
        "ko": "0.6"
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
        "ok": "989",
        "ko": "4"
    },
    "minResponseTime": {
        "total": "0",
        "ok": "0",
        "ko": "1"
    },
    "maxResponseTime": {
        "total": "6257",
        "ok": "6257",
        "ko": "1890"
    },
    "meanResponseTime": {
        "total": "308",
        "ok": "307",
        "ko": "477"
    },
    "standardDeviation": {
        "total": "696",
        "ok": "695",
        "ko": "816"
    },
    "percentiles1": {
        "total": "4",
        "ok": "4",
        "ko": "8"
    },
    "percentiles2": {
        "total": "21",
        "ok": "21",
        "ko": "481"
    },
    "percentiles3": {
        "total": "2054",
        "ok": "2055",
        "ko": "1608"
    },
    "percentiles4": {
        "total": "3056",
        "ok": "3056",
        "ko": "1834"
    },
    "group1": {
    "name": "t < 250 ms",
    "htmlName": "t < 250 ms",
    "count": 798,
    "percentage": 80
},
    "group2": {
    "name": "250 ms <= t < 1200 ms",
    "htmlName": "t >= 250 ms <br> t < 1200 ms",
    "count": 84,
    "percentage": 8
},
    "group3": {
    "name": "t >= 1200 ms",
    "htmlName": "t >= 1200 ms",
    "count": 107,
    "percentage": 11
},
    "group4": {
    "name": "failed",
    "htmlName": "failed",
    "count": 4,
    "percentage": 0
},
    "meanNumberOfRequestsPerSecond": {
        "total": "49.65",
        "ok": "49.45",
        "ko": "0.2"
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
        "ok": "93",
        "ko": "0"
    },
    "minResponseTime": {
        "total": "0",
        "ok": "0",
        "ko": "-"
    },
    "maxResponseTime": {
        "total": "5258",
        "ok": "5258",
        "ko": "-"
    },
    "meanResponseTime": {
        "total": "320",
        "ok": "320",
        "ko": "-"
    },
    "standardDeviation": {
        "total": "781",
        "ok": "781",
        "ko": "-"
    },
    "percentiles1": {
        "total": "5",
        "ok": "5",
        "ko": "-"
    },
    "percentiles2": {
        "total": "19",
        "ok": "19",
        "ko": "-"
    },
    "percentiles3": {
        "total": "1947",
        "ok": "1947",
        "ko": "-"
    },
    "percentiles4": {
        "total": "2516",
        "ok": "2516",
        "ko": "-"
    },
    "group1": {
    "name": "t < 250 ms",
    "htmlName": "t < 250 ms",
    "count": 76,
    "percentage": 82
},
    "group2": {
    "name": "250 ms <= t < 1200 ms",
    "htmlName": "t >= 250 ms <br> t < 1200 ms",
    "count": 6,
    "percentage": 6
},
    "group3": {
    "name": "t >= 1200 ms",
    "htmlName": "t >= 1200 ms",
    "count": 11,
    "percentage": 12
},
    "group4": {
    "name": "failed",
    "htmlName": "failed",
    "count": 0,
    "percentage": 0
},
    "meanNumberOfRequestsPerSecond": {
        "total": "4.65",
        "ok": "4.65",
        "ko": "-"
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
