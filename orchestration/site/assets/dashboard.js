// The dashboard's tabs and filters, drawn with plotly.js from the public marts embedded in the page
// (DATA) and the wording of en.yml (TEXTS). A withheld cell is never dropped: it is a marker at zero
// labelled "fewer than 11" in the chart and in the table.
(function () {
  "use strict";
  const T = TEXTS;
  const withheld = T.site.suppressed;
  // tab -> public mart, series column, value column, code list, chart kind, axis, d3 format, team column
  const TABS = {
    volume: ["volume", "served_by_team", "incidents", "team", "bar", "incidents", ",d", "served_by_team"],
    response: ["response", "team", "median_minutes", "team", "line", "minutes", ".1f", "team"],
    backup: ["backup", "request_type", "rate", "request_type", "line", "share", ".1%", null],
    outcomes: ["outcomes", "primary_outcome", "incidents", "primary_outcome", "bar", "incidents", ",d", null],
    quality: ["quality", "indicator", "value", "indicator", "line", "share", ".1%", null],
    demographics: ["demographics", "category", "people", "category", "bar", "people", ",d", null],
    repeat: ["repeat", "series", "share_with_repeat", "repeat", "line", "share", ".1%", null],
  };
  const el = (id) => document.getElementById(id);
  let tab = "volume";

  function periods(grain) {
    const all = new Set();
    for (const name of ["volume", "eligible"]) for (const r of DATA[name][grain]) all.add(r.period_start);
    return [...all].sort();
  }

  function label(kind, code) { return (T.codes[kind] || {})[code] || code; }

  function fill(select, values, chosen) {
    select.innerHTML = values.map((v) => `<option value="${v}">${v.slice(0, 7)}</option>`).join("");
    select.value = chosen;
  }

  function format(axis, v) {
    if (v === null || v === undefined) return withheld;
    if (axis === "share") return (100 * v).toFixed(1) + "%";
    if (axis === "minutes") return v.toFixed(1);
    return v.toLocaleString("en-US");
  }

  function rowsFor(grain) {
    const [mart, , , , , , , teamColumn] = TABS[tab];
    const source = DATA[mart][grain] || DATA[mart].quarter;
    const team = el("team").value;
    const value = TABS[tab][2];
    // a null that is not withheld (nothing measured yet, an input not recorded) is no point at all
    return source.filter((r) => r.period_start >= el("from").value && r.period_start <= el("to").value
      && !(r[value] === null && r.is_suppressed === false)
      && (!team || !teamColumn || r[teamColumn] === team)
      && (tab !== "demographics" || r.dimension === el("dimension").value));
  }

  function draw() {
    const grain = DATA[TABS[tab][0]][el("grain").value] ? el("grain").value : "quarter";
    const [, key, value, codes, kind, axis, fmt, teamColumn] = TABS[tab];
    el("team-note").hidden = !(el("team").value && !teamColumn);
    el("dimension-filter").hidden = tab !== "demographics";
    el("quarterly-note").hidden = !(el("grain").value === "month" && !DATA[TABS[tab][0]].month);
    // one point per series and period: call volume adds up the call origins, and a sum with a
    // withheld cell in it is a lower bound ("at least"), never shown as the total
    const bySeries = new Map();
    for (const r of rowsFor(grain)) {
      if (tab === "volume" && r[key] === "not_served") continue;  // the program's volume, not the city's
      if (!bySeries.has(r[key])) bySeries.set(r[key], new Map());
      const points = bySeries.get(r[key]);
      const p = points.get(r.period_start) || { period_start: r.period_start, sum: 0, published: 0, withheld: 0 };
      if (r[value] === null) p.withheld += 1; else { p.sum += r[value]; p.published += 1; }
      points.set(r.period_start, p);
    }
    const traces = [];
    const body = [];
    for (const [code, byPeriod] of [...bySeries.entries()].sort()) {
      const name = label(codes, code);
      const points = [...byPeriod.values()].sort((a, b) => a.period_start.localeCompare(b.period_start));
      const shown = points.filter((p) => p.published > 0);
      const hidden = points.filter((p) => p.published === 0);
      // bars: the published sums; lines: every period, a withheld one as a gap (no slope through it)
      const drawn = kind === "bar" ? shown : points;
      traces.push({
        type: kind === "bar" ? "bar" : "scatter", mode: kind === "bar" ? undefined : "lines+markers", name,
        x: drawn.map((p) => p.period_start.slice(0, 7)), y: drawn.map((p) => (p.published > 0 ? p.sum : null)),
      });
      if (hidden.length) {
        traces.push({
          type: "scatter", mode: "markers+text", name: `${name}: ${withheld}`,
          x: hidden.map((p) => p.period_start.slice(0, 7)), y: hidden.map(() => 0),
          text: hidden.map(() => withheld), textposition: "top center",
          marker: { symbol: "x-thin-open", size: 10, color: "#555" },
          hovertemplate: `%{x}: ${withheld}<extra>${name}</extra>`,
          showlegend: shown.length === 0,  // a series withheld throughout still says it exists
        });
      }
      for (const p of points) {
        const shownValue = p.published === 0 ? withheld
          : p.withheld > 0 ? T.site.at_least.replace("{n}", format(axis, p.sum)) : format(axis, p.sum);
        body.push([name, p.period_start.slice(0, 7), shownValue]);
      }
    }
    const layout = {
      title: { text: tab === "demographics" ? `${T.dashboard.charts[tab]}: ${T.dashboard.dimensions[el("dimension").value]}` : T.dashboard.charts[tab] }, barmode: "stack", height: 440, separators: T.chart_separators,
      xaxis: {
        title: { text: T.axes.period }, type: "category", categoryorder: "array",
        categoryarray: [...new Set(body.map((r) => r[1]))].sort(),  // time order, whatever series comes first
      },
      yaxis: { title: { text: T.axes[axis] }, rangemode: "tozero", tickformat: fmt },
      legend: { orientation: "h", y: -0.3 }, margin: { t: 60, l: 70, r: 20, b: 90 },
    };
    Plotly.react("chart", traces, layout, { displaylogo: false, responsive: true });
    el("numbers").tHead.innerHTML = `<tr><th></th><th>${T.axes.period}</th><th>${T.axes[axis]}</th></tr>`;
    el("numbers").tBodies[0].innerHTML = body.length
      ? body.map((r) => `<tr><td>${r[0]}</td><td>${r[1]}</td><td class="num">${r[2]}</td></tr>`).join("")
      : `<tr><td colspan="3">${T.site.no_data}</td></tr>`;
  }

  function setGrain() {
    const all = periods(el("grain").value);
    fill(el("from"), all, all[0]);
    fill(el("to"), all, all[all.length - 1]);
    draw();
  }

  for (const button of document.querySelectorAll("[data-tab]")) {
    button.addEventListener("click", () => {
      tab = button.dataset.tab;
      for (const b of document.querySelectorAll("[data-tab]")) b.setAttribute("aria-selected", String(b === button));
      draw();
    });
  }
  el("grain").addEventListener("change", setGrain);
  for (const id of ["from", "to", "team", "dimension"]) el(id).addEventListener("change", draw);
  setGrain();
})();
