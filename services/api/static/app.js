// Drawdown dashboard: refresh statuses, the alert timeline and the sources table by
// polling /dashboard/state. No libraries; text is set with textContent only.
"use strict";

(function () {
  const root = document.getElementById("dashboard");
  if (!root) return;
  const seconds = Number(root.dataset.refresh) || 15;
  const names = JSON.parse(document.getElementById("place-names").textContent);

  function when(iso) {
    return iso ? iso.slice(0, 16).replace("T", " ") + " UTC" : "—";
  }

  function el(tag, props, children) {
    const node = document.createElement(tag);
    Object.entries(props || {}).forEach(([key, value]) => {
      if (key === "text") node.textContent = value;
      else if (key.startsWith("data-") || key === "href" || key === "dir" || key === "datetime" || key === "rel") node.setAttribute(key, value);
      else node[key] = value;
    });
    (children || []).forEach((child) => node.append(child));
    return node;
  }

  function badge(status) {
    return el("span", { className: "badge", "data-status": status || "none", text: status || "no alert" });
  }

  function updatePlaces(places) {
    places.forEach((place) => {
      const status = place.status || "none";
      document.querySelectorAll(`[data-place="${place.id}"]`).forEach((marker) => {
        marker.setAttribute("data-status", status);
        const title = marker.querySelector("title");
        if (title) title.textContent = `${names[place.id] || place.id}: ${place.status || "no alert"}`;
      });
      const row = document.querySelector(`[data-place-row="${place.id}"]`);
      if (!row) return;
      row.querySelector('[data-field="kind"]').textContent = place.kind ? place.kind.replace("_", " ") : "—";
      row.querySelector('[data-field="status"]').replaceChildren(badge(place.status));
      row.querySelector('[data-field="outlets"]').textContent = String(place.outlets);
      row.querySelector('[data-field="last_seen_at"]').textContent = when(place.last_seen_at);
    });
  }

  function alertRow(alert) {
    const outlets = alert.outlets.length;
    return el("li", { className: "alert", "data-status": alert.status }, [
      el("time", { datetime: alert.last_seen_at, text: when(alert.last_seen_at) }),
      el("a", { href: `/places/${alert.place}/view`, text: names[alert.place] || alert.place }),
      el("span", { className: "kind", text: alert.kind.replace("_", " ") }),
      badge(alert.status),
      el("span", { className: "meta", text: `${outlets} outlet${outlets === 1 ? "" : "s"} · ${alert.languages.join(", ")}` }),
      el("a", { className: "json", href: `/alerts/${alert.id}`, text: "JSON" }),
    ]);
  }

  function sourceRow(source) {
    const cell = (text, props) => el("td", Object.assign({ text: String(text) }, props || {}));
    return el("tr", {}, [
      el("td", {}, [el("a", { href: source.url, rel: "noreferrer", dir: "auto", text: source.name })]),
      cell(source.kind),
      el("td", {}, [el("span", { className: "health", "data-health": source.health, text: source.health })]),
      cell(when(source.last_polled_at)),
      cell(source.last_status || "—"),
      cell(source.error_count),
      cell(source.last_error || "—", { className: "error", dir: "auto" }),
      cell(source.articles_found),
    ]);
  }

  function render(state) {
    updatePlaces(state.places);
    const timeline = document.getElementById("timeline");
    timeline.replaceChildren(...(state.alerts.length ? state.alerts.map(alertRow) : [el("li", { className: "empty", text: "No alerts yet." })]));
    const sources = document.getElementById("sources");
    const empty = el("tr", { className: "empty" }, [el("td", { colSpan: 8, text: "No sources yet." })]);
    sources.replaceChildren(...(state.sources.length ? state.sources.map(sourceRow) : [empty]));
    const updated = document.getElementById("updated");
    updated.setAttribute("datetime", state.generated_at);
    updated.textContent = when(state.generated_at);
  }

  async function refresh() {
    try {
      const response = await fetch("/dashboard/state", { headers: { Accept: "application/json" } });
      if (response.ok) render(await response.json());
    } catch (error) {
      // Offline or restarting: keep what is shown and try again at the next tick.
    }
  }

  setInterval(refresh, seconds * 1000);
})();
