// Drawdown dashboard: the live stream of alert events (/alerts/stream, Server-Sent
// Events) tells the page when to fetch /dashboard/state and redraw statuses, the
// timeline, languages and sources; the timeline's filters and the article search ask
// the JSON API. No libraries; text is set with textContent only.
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

  function filterQuery(form) {
    const query = new URLSearchParams();
    new FormData(form).forEach((value, key) => { if (value) query.append(key, String(value)); });
    return query;
  }

  const alertFilters = document.getElementById("alert-filters");

  function showAlerts(alerts) {
    const timeline = document.getElementById("timeline");
    const empty = el("li", { className: "empty", text: alertFilters && filterQuery(alertFilters).toString() ? "No alert matches." : "No alerts yet." });
    timeline.replaceChildren(...(alerts.length ? alerts.map(alertRow) : [empty]));
    document.getElementById("timeline-count").textContent = `latest ${alerts.length}, newest first`;
  }

  async function filteredAlerts() {
    const query = filterQuery(alertFilters);
    ["atom", "csv", "geojson"].forEach((kind) => {
      const link = document.getElementById(`${kind}-link`);
      if (link) link.setAttribute("href", `/alerts.${kind}${query.toString() ? "?" + query : ""}`);
    });
    if (!query.toString()) return null;
    query.set("limit", "50");
    const response = await fetch(`/alerts?${query}`, { headers: { Accept: "application/json" } });
    return response.ok ? (await response.json()).items : null;
  }

  function languageRow(row) {
    return el("tr", { "data-language": row.language }, [
      el("td", { text: row.language }),
      el("td", { text: String(row.articles) }),
      el("td", { text: String(row.alerts) }),
    ]);
  }

  function updateLanguageChoices(languages) {
    // Languages seen since the page loaded become choices too; the chosen one stays.
    document.querySelectorAll('select[name="language"]').forEach((select) => {
      const known = new Set([...select.options].map((option) => option.value));
      languages.forEach((row) => {
        if (!known.has(row.language)) select.append(el("option", { value: row.language, text: row.language }));
      });
    });
  }

  async function render(state) {
    updatePlaces(state.places);
    updateLanguageChoices(state.languages);
    const filtered = alertFilters ? await filteredAlerts() : null;
    showAlerts(filtered || state.alerts);
    const languages = document.getElementById("languages");
    if (languages) {
      const none = el("tr", { className: "empty" }, [el("td", { colSpan: 3, text: "No articles yet." })]);
      languages.replaceChildren(...(state.languages.length ? state.languages.map(languageRow) : [none]));
    }
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
      if (response.ok) await render(await response.json());
    } catch (error) {
      // Offline or restarting: keep what is shown and try again at the next event.
    }
  }

  function resultRow(article) {
    const href = article.url || `/articles/${article.id}`;
    const language = article.language && article.language !== "und" ? article.language : "";
    return el("li", { className: "result", "data-article": article.id }, [
      el("a", { href, rel: "noreferrer", dir: "auto", text: article.title || href }),
      el("span", { className: "meta", dir: "auto", text: `${article.source} · ${language || "?"} · ${when(article.created_at)}` }),
      el("span", { className: "snippet", dir: "auto", lang: language, text: article.snippet }),
    ]);
  }

  async function search(event) {
    event.preventDefault();
    const form = event.target;
    const status = document.getElementById("search-status");
    const results = document.getElementById("search-results");
    const query = filterQuery(form);
    if (!query.toString()) { results.replaceChildren(); status.textContent = "Type a word, or choose a filter."; return; }
    query.set("limit", "50");
    const response = await fetch(`/articles?${query}`, { headers: { Accept: "application/json" } });
    const body = await response.json();
    if (!response.ok) { results.replaceChildren(); status.textContent = body.detail; return; }
    status.textContent = `${body.items.length}${body.next ? "+" : ""} article${body.items.length === 1 ? "" : "s"}, newest first`;
    results.replaceChildren(...body.items.map(resultRow));
  }

  const searchForm = document.getElementById("search");
  if (searchForm) searchForm.addEventListener("submit", search);
  if (alertFilters) alertFilters.addEventListener("change", refresh);

  // Each alert event is a reason to redraw; EventSource reconnects by itself and resumes
  // with Last-Event-ID. Source health changes without alert events: a slow timer for it.
  if (window.EventSource) {
    const stream = new EventSource("/alerts/stream");
    ["alert.created", "alert.updated"].forEach((type) => stream.addEventListener(type, refresh));
    root.dataset.live = "connecting";
    stream.addEventListener("open", () => { root.dataset.live = "open"; });
    stream.addEventListener("error", () => { root.dataset.live = "reconnecting"; });
  }
  setInterval(refresh, seconds * 1000);
})();
