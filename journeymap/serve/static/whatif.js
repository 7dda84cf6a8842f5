/* journeymap serve: the what-if panel (journeymap/serve/whatif.py).
 *
 * Moving a lever posts the settings (JSON) to /whatif/NAME; the server starts a run and answers with
 * its id; the page then reads /whatif/NAME/job/ID until the last stage is in, and shows each stage's
 * tiles. A newer change starts a newer run (the server cancels the older one; the page stops reading
 * it). Live reload replaces the panel with the page's content: the settings and the last tiles are kept
 * here and put back. Every number shown is the text the server sent with the numbers (its JSON).
 */
(function () {
  "use strict";

  var state = { settings: {}, job: 0, last: null, timer: null, name: null, open: false, groups: {} };
  var POLL_MS = 50;
  var DEBOUNCE_MS = 120;  // a slider sends many input events while it moves: the last one counts

  function panel() { return document.getElementById("whatif"); }

  function fmt(kind, value) {
    if (kind === "probability") return Math.round(value * 100) + "%";
    if (kind === "cut_delay" && value === 0) return "removed";
    return "×" + (Math.round(value * 100) / 100);
  }

  function status(text, cls) {
    var s = document.getElementById("whatif-status");
    if (!s) return;
    s.textContent = text;
    s.className = "whatif-status" + (cls ? " " + cls : "");
  }

  /* ------------------------------------------------------------------ controls */

  function rows() { return Array.prototype.slice.call(panel().querySelectorAll("tr.lever")); }

  function showRow(row) {
    var id = row.dataset.lever, kind = row.dataset.kind;
    var neutral = parseFloat(row.dataset.neutral);
    var value = Object.prototype.hasOwnProperty.call(state.settings, id) ? state.settings[id] : neutral;
    row.classList.toggle("changed", value !== neutral);
    if (kind === "staff") {
      var count = row.querySelector(".count");
      count.textContent = parseInt(count.dataset.capacity, 10) + value;
      row.querySelector(".delta").textContent = value ? " (" + (value > 0 ? "+" : "−") + Math.abs(value) + ")" : "";
      row.querySelector('[data-step="-1"]').disabled = value <= parseFloat(row.dataset.low);
      row.querySelector('[data-step="1"]').disabled = value >= parseFloat(row.dataset.high);
    } else {
      var input = row.querySelector("input");
      input.value = value;
      row.querySelector("output").textContent = fmt(kind, value);
    }
  }

  function countSet() {
    panel().querySelectorAll("details.wgroup").forEach(function (d) {
      var n = d.querySelectorAll("tr.lever.changed").length;
      d.querySelector(".count-set").textContent = n ? "(" + n + " changed)" : "";
    });
  }

  function set(id, value, neutral, wait) {
    if (value === neutral) delete state.settings[id]; else state.settings[id] = value;
    // one branch of a choice at a time: the server refuses two (the others follow the one set)
    if (id.indexOf("branch:") === 0 && value !== neutral) {
      var source = id.slice(7).split("->")[0];
      Object.keys(state.settings).forEach(function (other) {
        if (other !== id && other.indexOf("branch:" + source + "->") === 0) delete state.settings[other];
      });
      rows().forEach(showRow);
    }
    countSet();
    clearTimeout(state.timer);
    state.timer = setTimeout(post, wait);
  }

  function bind() {
    var p = panel();
    if (!p || p.dataset.bound) return;
    p.dataset.bound = "1";
    if (state.name !== p.dataset.name) {  // another journey: start afresh
      state = { settings: {}, job: 0, last: null, timer: null, name: p.dataset.name, open: false, groups: {} };
    }
    // a saved file may have lost a lever, or moved its range: keep only the settings it still takes
    var kept = {};
    rows().forEach(function (row) {
      var id = row.dataset.lever, v = state.settings[id];
      if (v === undefined) return;
      var input = row.querySelector("input");
      var low = parseFloat(input ? input.min : row.dataset.low), high = parseFloat(input ? input.max : row.dataset.high);
      if (v >= low && v <= high) kept[id] = v;
    });
    var saved = state.version !== undefined && state.version !== p.dataset.version;
    state.version = p.dataset.version;
    if (Object.keys(kept).length !== Object.keys(state.settings).length || (saved && state.last)) {
      state.settings = kept;  // and the journey changed: the same settings on the new version
      state.last = null;
      setTimeout(post, 0);
    }
    p.open = state.open;
    p.addEventListener("toggle", function () { state.open = p.open; });
    p.querySelectorAll("details.wgroup").forEach(function (d) {
      d.open = !!state.groups[d.dataset.group];
      d.addEventListener("toggle", function () { state.groups[d.dataset.group] = d.open; });
    });
    rows().forEach(function (row) {
      var id = row.dataset.lever, neutral = parseFloat(row.dataset.neutral);
      if (row.dataset.kind === "staff") {
        row.querySelectorAll("button[data-step]").forEach(function (b) {
          b.addEventListener("click", function () {
            var now = state.settings[id] || 0;
            var next = Math.min(parseFloat(row.dataset.high), Math.max(parseFloat(row.dataset.low),
                                now + parseInt(b.dataset.step, 10)));
            set(id, next, 0, 0);
            showRow(row);
          });
        });
      } else {
        var input = row.querySelector("input");
        input.addEventListener("input", function () {
          set(id, parseFloat(input.value), neutral, DEBOUNCE_MS);
          showRow(row);
        });
      }
      showRow(row);
    });
    countSet();
    p.querySelector('[data-whatif="reset"]').addEventListener("click", function () {
      state.settings = {};
      rows().forEach(showRow);
      countSet();
      post();
    });
    p.querySelector('[data-whatif="save"]').addEventListener("click", save);
    if (state.last) render(state.last);
  }

  /* ------------------------------------------------------------------ the server */

  function url(tail) { return "/whatif/" + encodeURIComponent(state.name) + (tail || ""); }

  function send(path, body) {
    return fetch(url(path), { method: "POST", headers: { "Content-Type": "application/json" },
                              body: JSON.stringify(body) })
      .then(function (r) {
        return r.text().then(function (text) {
          var data;
          try { data = JSON.parse(text); } catch (e) { data = { error: text.trim() || r.statusText }; }
          if (!r.ok) throw new Error(data.error || r.statusText);
          return data;
        });
      });
  }

  function post() {
    clearTimeout(state.timer);
    var settings = JSON.parse(JSON.stringify(state.settings));
    status("Simulating…", "busy");
    send("", { settings: settings })
      .then(function (data) {
        if (data.job < state.job) return;
        state.job = data.job;
        poll(data.job);
      })
      .catch(function (err) { status(err.message, "bad"); });
  }

  function poll(job) {
    if (job !== state.job) return;  // a newer change took over
    fetch(url("/job/" + job), { cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (job !== state.job) return;
        if (data.tiles && data.tiles.length) { state.last = data; render(data); }
        else if (data.error) status(data.error, "bad");
        if (!data.done) setTimeout(function () { poll(job); }, POLL_MS);
      })
      .catch(function (err) { status("what-if run lost: " + err.message, "bad"); });
  }

  function render(data) {
    var p = panel();
    if (!p) return;
    p.dataset.job = data.job;
    p.dataset.stage = data.stage;
    p.dataset.done = data.done && !data.error ? "1" : "";
    var seen = {};
    data.tiles.forEach(function (t) {
      seen[t.key] = true;
      var el = p.querySelector('[data-tile="' + t.key + '"]');
      if (!el) return;
      el.hidden = false;
      el.querySelector(".before").textContent = t.text.before;
      el.querySelector(".after").textContent = t.text.after;
      el.querySelector(".change").textContent = t.text.change;
      el.querySelector(".ci").textContent = t.text.ci || "\u00a0";
      el.classList.toggle("better", t.better === true && t.significant);
      el.classList.toggle("worse", t.better === false && t.significant);
      el.dataset.after = t.after;
    });
    p.querySelectorAll("[data-tile]").forEach(function (el) { if (!seen[el.dataset.tile]) el.hidden = true; });
    var words = data.replications + " paired replications" +
      (data.done ? "" : ", refining…") + (data.steady ? "" : " — " + (data.message || "not steady"));
    status(data.error ? data.error : words, data.error ? "bad" : data.done ? "" : "busy");
  }

  function save() {
    var file = document.getElementById("whatif-file").value.trim();
    var overwrite = document.getElementById("whatif-overwrite").checked;
    var out = document.getElementById("whatif-saved");
    out.textContent = "saving…";
    out.className = "saved";
    send("/save", { settings: state.settings, file: file, overwrite: overwrite })
      .then(function (data) { out.textContent = "wrote " + data.file; out.className = "saved good"; })
      .catch(function (err) { out.textContent = err.message; out.className = "saved bad"; });
  }

  function start() {
    var content = document.getElementById("content");
    bind();
    if (content) new MutationObserver(bind).observe(content, { childList: true });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
