// innosandbox dashboard: progressive enhancement only. Every page works
// without this file; with it, the delivery list follows new deliveries by
// itself and a few selects act on change.
(function () {
  "use strict";

  // The live delivery list: the server streams the table body's HTML
  // (rendered by the same template as the page) whenever it changes.
  var body = document.querySelector("tbody[data-live]");
  var state = document.querySelector("[data-live-state]");
  if (body && window.EventSource) {
    var seen = {};
    body.querySelectorAll("tr[data-id]").forEach(function (tr) { seen[tr.dataset.id] = true; });
    var es = new EventSource(body.dataset.live);
    es.addEventListener("open", function () {
      if (state) state.textContent = "Newest first. Live: new deliveries appear by themselves.";
    });
    es.addEventListener("rows", function (ev) {
      body.innerHTML = ev.data;
      body.querySelectorAll("tr[data-id]").forEach(function (tr) {
        if (!seen[tr.dataset.id]) { tr.classList.add("fresh"); seen[tr.dataset.id] = true; }
      });
    });
    es.addEventListener("error", function () {
      if (state) state.textContent = "Newest first. Live updates paused; retrying.";
    });
  }

  // Selects that apply at once: the account switcher, and the event type
  // of "fire an event" (which loads that type's example).
  document.querySelectorAll("select[data-autosubmit]").forEach(function (s) {
    s.addEventListener("change", function () { s.form.submit(); });
  });
  var typ = document.querySelector("select[data-load-example]");
  if (typ) {
    typ.addEventListener("change", function () {
      var load = typ.form.querySelector("button[name=load]");
      if (load) load.click();
    });
  }

  // The payload editor says at once whether its text is JSON at all (the
  // contract's own judgement comes with the answer to "Fire").
  document.querySelectorAll("[data-json-check]").forEach(function (out) {
    var ta = document.getElementById(out.dataset.jsonCheck);
    if (!ta) return;
    ta.addEventListener("input", function () {
      try {
        var v = JSON.parse(ta.value);
        out.textContent = (v && typeof v === "object" && !Array.isArray(v)) ? "JSON object: ready to fire." : "The payload must be a JSON object.";
      } catch (e) {
        out.textContent = "Not JSON yet: " + e.message;
      }
    });
  });
})();
