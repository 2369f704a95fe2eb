// A local stand-in for jslib's k6-summary module, as far as the official 2025 test uses it:
// textSummary(data), the end-of-test figures as text, one line per metric (sorted by name),
// thresholds marked ✓ or ✗. scripts/k6-official points the official script's import here.

function number(v) {
  if (typeof v !== "number") return String(v);
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

function values(metric) {
  const v = metric.values;
  switch (metric.type) {
    case "trend":
      // Every statistic of a time trend is in ms, except how many values it holds.
      return Object.keys(v)
        .map((k) => `${k}=${number(v[k])}${metric.contains === "time" && k !== "count" ? "ms" : ""}`)
        .join(" ");
    case "counter":
      return `${number(v.count)} ${number(v.rate)}/s`;
    case "rate":
      return `${(v.rate * 100).toFixed(2)}% ${v.passes} of ${v.passes + v.fails}`;
    case "gauge":
      return `${number(v.value)} min=${number(v.min)} max=${number(v.max)}`;
    default:
      return JSON.stringify(v);
  }
}

export function textSummary(data, options = {}) {
  const indent = options.indent === undefined ? " " : options.indent;
  const names = Object.keys(data.metrics || {}).sort();
  const width = names.reduce((w, n) => Math.max(w, n.length), 0) + 2;
  const lines = [];
  for (const name of names) {
    const metric = data.metrics[name];
    const thresholds = metric.thresholds || {};
    const marks = Object.keys(thresholds).map((t) => (thresholds[t].ok ? "✓" : "✗"));
    const mark = marks.length ? (marks.includes("✗") ? "✗ " : "✓ ") : "  ";
    lines.push(`${indent}${mark}${name}${".".repeat(width - name.length)}: ${values(metric)}`);
  }
  return lines.join("\n") + "\n";
}
