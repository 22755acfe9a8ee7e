// The mini-flink dashboard: reads the REST API, refreshes at /config's interval.
"use strict";
async function getJson(path) {
  const r = await fetch(path);
  return r.json();
}
async function refresh() {
  const ov = await getJson("/overview");
  document.getElementById("main").textContent =
    `${ov.taskmanagers} TaskManagers, ${ov["slots-available"]} of ${ov["slots-total"]} slots free, ${ov["jobs-running"]} jobs running`;
}
(async () => {
  const cfg = await getJson("/config");
  document.getElementById("version").textContent = `Flink REST API ${cfg["flink-version"]}`;
  await refresh();
  setInterval(refresh, cfg["refresh-interval"]);
})();
