// journeymap serve: live reload, tabs, pan and zoom, step details and handoff tooltips.
// Hand-written, no library and no request to any other host. The server renders every page as HTML
// (escaped by Jinja2); this script only moves, shows and hides what is there, and fetches the page's
// own content again when the server says a file changed (server-sent events on /events).
"use strict";

(function () {
  const state = { view: null, boxes: {}, step: null, seq: 0, shown: 0, missed: false };

  // ------------------------------------------------------------------ live reload

  function main() { return document.getElementById("content"); }

  function concerns(files) {
    const mine = main().dataset.files;
    return mine === "*" || files.indexOf(mine) >= 0;
  }

  function reload() {
    const url = main().dataset.fragment;
    if (!url) return;
    const seq = ++state.seq;
    fetch(url, { cache: "no-store", headers: { "Accept": "text/html" } })
      .then(function (r) {
        if (r.status === 404) return '<p class="gone">This file is no longer in the folder. <a href="/">Back to the journeys</a></p>';
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.text();
      })
      .then(function (html) {
        if (seq < state.shown) return; // an older answer arriving late
        state.shown = seq;
        remember();
        main().innerHTML = html;
        setUp();
        document.body.dataset.updated = String(seq); // tests and the benchmark wait for this
      })
      .catch(function (err) { setLive("reload failed: " + err.message, "down"); });
  }

  function setLive(text, cls) {
    const el = document.getElementById("live");
    if (!el) return;
    el.textContent = text;
    el.className = "live " + (cls || "");
  }

  function listen() {
    if (!window.EventSource) { setLive("no live reload in this browser", "down"); return; }
    const source = new EventSource("/events");
    source.addEventListener("hello", function () {
      setLive("live", "up");
      document.body.dataset.live = "1";
      if (state.missed) { state.missed = false; reload(); } // changes made while we were away
    });
    source.addEventListener("change", function (event) {
      const data = JSON.parse(event.data);
      if (concerns(data.files || [])) reload();
    });
    source.onerror = function () { state.missed = true; setLive("reconnecting…", "down"); };
    window.addEventListener("pagehide", function () { source.close(); });
  }

  // ------------------------------------------------------------------ tabs

  function views() { return Array.prototype.slice.call(document.querySelectorAll(".view[data-view]")); }

  function show(view) {
    const all = views();
    if (!all.length) return;
    if (!all.some(function (v) { return v.dataset.view === view; })) view = all[0].dataset.view;
    state.view = view;
    all.forEach(function (v) { v.hidden = v.dataset.view !== view; });
    document.querySelectorAll(".tabs [data-view]").forEach(function (b) {
      b.setAttribute("aria-selected", b.dataset.view === view ? "true" : "false");
    });
    if (location.hash !== "#" + view) history.replaceState(null, "", "#" + view);
    const svg = svgOf(view);
    if (svg) place(svg);
  }

  // ------------------------------------------------------------------ pan and zoom (the SVG's viewBox)

  function svgOf(view) {
    const v = document.querySelector('.view[data-view="' + view + '"] .viewport svg');
    return v || null;
  }

  function box(svg) {
    const b = svg.viewBox.baseVal;
    return { x: b.x, y: b.y, w: b.width, h: b.height };
  }

  function setBox(svg, b) {
    svg.setAttribute("viewBox", [b.x, b.y, b.w, b.h].join(" "));
  }

  function toSvg(svg, clientX, clientY) {
    const m = svg.getScreenCTM();
    if (!m) return { x: 0, y: 0 };
    const p = new DOMPoint(clientX, clientY).matrixTransform(m.inverse());
    return { x: p.x, y: p.y };
  }

  function zoom(svg, factor, clientX, clientY) {
    const b = box(svg), full = svg._full;
    const w = Math.min(Math.max(b.w * factor, full.w / 40), full.w * 4);
    const k = w / b.w;
    let p;
    if (clientX === undefined) p = { x: b.x + b.w / 2, y: b.y + b.h / 2 };
    else p = toSvg(svg, clientX, clientY);
    setBox(svg, { x: p.x - (p.x - b.x) * k, y: p.y - (p.y - b.y) * k, w: b.w * k, h: b.h * k });
  }

  function fit(svg) { setBox(svg, svg._full); }

  // The first look at a drawing: whole when its text stays readable that way, else its top-left corner at
  // FIRST_SCALE CSS pixels per point (a step name of 16 pt reads as 13 px), to be panned and zoomed from there.
  const READABLE = 0.6, FIRST_SCALE = 0.8;
  function place(svg) {
    if (svg._placed || !svg.clientWidth) return;
    svg._placed = true;
    const full = svg._full, cw = svg.clientWidth, ch = svg.clientHeight;
    if (Math.min(cw / full.w, ch / full.h) >= READABLE) { fit(svg); return; }
    setBox(svg, { x: full.x, y: full.y, w: cw / FIRST_SCALE, h: ch / FIRST_SCALE });
  }

  function panZoom(svg) {
    const view = svg.closest(".view").dataset.view;
    svg._full = box(svg);
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    if (state.boxes[view]) { setBox(svg, state.boxes[view]); svg._placed = true; }
    svg.addEventListener("wheel", function (e) {
      e.preventDefault();
      zoom(svg, e.deltaY < 0 ? 1 / 1.2 : 1.2, e.clientX, e.clientY);
    }, { passive: false });
    let drag = null;
    svg.addEventListener("pointerdown", function (e) {
      if (e.button !== 0) return;
      drag = { x: e.clientX, y: e.clientY, b: box(svg), moved: false, id: e.pointerId };
    });
    svg.addEventListener("pointermove", function (e) {
      if (!drag) return;
      const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
      if (!drag.moved) { drag.moved = true; svg.setPointerCapture(drag.id); svg.classList.add("dragging"); }
      const m = svg.getScreenCTM();
      const scale = m ? m.a : 1;
      setBox(svg, { x: drag.b.x - dx / scale, y: drag.b.y - dy / scale, w: drag.b.w, h: drag.b.h });
    });
    function end(e) {
      if (!drag) return;
      const moved = drag.moved;
      drag = null;
      svg.classList.remove("dragging");
      if (moved) { e.preventDefault(); svg._justDragged = true; setTimeout(function () { svg._justDragged = false; }, 0); }
    }
    svg.addEventListener("pointerup", end);
    svg.addEventListener("pointercancel", end);
  }

  function remember() {
    views().forEach(function (v) {
      const svg = v.querySelector(".viewport svg");
      if (svg && svg._placed) state.boxes[v.dataset.view] = box(svg); // a view never shown keeps its first look
    });
  }

  // ------------------------------------------------------------------ steps and handoffs

  function select(step) {
    state.step = step;
    document.querySelectorAll("g.step.selected").forEach(function (g) { g.classList.remove("selected"); });
    let found = false;
    document.querySelectorAll(".step-detail").forEach(function (d) {
      const on = d.dataset.stepDetail === step;
      d.hidden = !on;
      found = found || on;
    });
    const placeholder = document.querySelector("[data-placeholder]");
    if (placeholder) placeholder.hidden = found;
    if (!found) { state.step = null; return; }
    document.querySelectorAll('g.step[data-step="' + CSS.escape(step) + '"]').forEach(function (g) {
      g.classList.add("selected");
    });
  }

  function tips() {
    const tip = document.getElementById("tip");
    document.querySelectorAll("g.tip[data-tip]").forEach(function (g) {
      const title = g.querySelector("title");
      if (title) title.remove(); // our tooltip instead of the browser's slow one
      g.addEventListener("pointerenter", function () { tip.textContent = g.dataset.tip; tip.hidden = false; });
      g.addEventListener("pointermove", function (e) {
        tip.style.left = Math.min(e.clientX + 16, window.innerWidth - tip.offsetWidth - 8) + "px";
        tip.style.top = (e.clientY + 18) + "px";
      });
      g.addEventListener("pointerleave", function () { tip.hidden = true; });
    });
  }

  // ------------------------------------------------------------------ set up (again after each reload)

  function setUp() {
    document.querySelectorAll(".viewport svg").forEach(panZoom);
    document.querySelectorAll(".tabs [data-view]").forEach(function (b) {
      b.addEventListener("click", function () { show(b.dataset.view); });
    });
    document.querySelectorAll("[data-zoom]").forEach(function (b) {
      b.addEventListener("click", function () {
        const svg = svgOf(state.view);
        if (!svg) return;
        if (b.dataset.zoom === "fit") fit(svg); else zoom(svg, b.dataset.zoom === "in" ? 1 / 1.4 : 1.4);
      });
    });
    document.querySelectorAll("g.step[data-step]").forEach(function (g) {
      g.addEventListener("click", function () {
        const svg = g.closest("svg");
        if (svg && svg._justDragged) return;
        select(g.dataset.step);
      });
      g.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") select(g.dataset.step); });
    });
    tips();
    show(state.view || (location.hash || "").slice(1));
    if (state.step) select(state.step);
  }

  document.addEventListener("keydown", function (e) {
    if (e.target && /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName)) return;
    const svg = svgOf(state.view);
    if (!svg) return;
    if (e.key === "+" || e.key === "=") zoom(svg, 1 / 1.4);
    else if (e.key === "-") zoom(svg, 1.4);
    else if (e.key === "0") fit(svg);
  });

  document.addEventListener("DOMContentLoaded", function () { setUp(); listen(); });
})();
