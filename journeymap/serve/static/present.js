// journeymap serve, presenter mode: one slide at a time, the keyboard moves between them, each stage's
// close-up cropped to its lanes and scaled so that its smallest text stays readable on a projector.
// Hand-written, no library. serve.js does live reload (it replaces <main>'s content); this script notices
// the new content and shows the same slide again, at the same place.
"use strict";

(function () {
  // The smallest text on screen, in CSS pixels (journeymap.serve.present.MIN_TEXT_PX), and how much larger
  // than that a small close-up may be blown up to fill the screen.
  const MIN_TEXT_PX = 18, MAX_BLOW_UP = 2.0, PAN_STEP = 0.4;
  const state = { current: null, scroll: {} };

  function deck() { return document.querySelector(".deck"); }
  function slides() { return Array.prototype.slice.call(document.querySelectorAll(".deck .slide")); }
  function index() {
    const all = slides();
    for (let i = 0; i < all.length; i++) if (!all[i].hidden) return i;
    return 0;
  }

  function show(i) {
    const all = slides();
    if (!all.length) return;
    i = Math.max(0, Math.min(all.length - 1, i));
    all.forEach(function (s, k) { s.hidden = k !== i; });
    const slide = all[i];
    state.current = slide.dataset.slide;
    const d = deck();
    const url = d.dataset.base + (state.current ? "/" + encodeURIComponent(state.current) : "");
    if (location.pathname !== url) history.replaceState(null, "", url);
    const svg = slide.querySelector(".closeup svg");
    if (svg) fit(svg);
    const pane = slide.querySelector(".closeup");
    const at = state.scroll[state.current];
    if (pane) {
      const to = at || firstLook(pane);
      pane.scrollLeft = to.x;
      pane.scrollTop = to.y;
    }
    document.body.dataset.slide = String(i); // tests wait for this
  }

  // ------------------------------------------------------------------ the close-up: cropped and scaled

  function contentBox(svg, keep, pad) {
    // what ``keep`` accepts of the drawing (lanes, steps, arrows), in the SVG's user units: Graphviz's first
    // polygon is the white page behind everything, and invisible nodes have an empty box
    const graph = svg.querySelector("g.graph");
    if (!graph) return null;
    const m = graph.transform.baseVal.consolidate();
    const t = m ? m.matrix : new DOMMatrix();
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity, first = true;
    Array.prototype.forEach.call(graph.children, function (el) {
      if (el.tagName === "title") return;
      if (first && el.tagName === "polygon") { first = false; return; }
      first = false;
      if (!keep(el)) return;
      const b = el.getBBox();
      if (!b.width && !b.height) return;
      [[b.x, b.y], [b.x + b.width, b.y + b.height]].forEach(function (p) {
        const q = new DOMPoint(p[0], p[1]).matrixTransform(t);
        x0 = Math.min(x0, q.x); y0 = Math.min(y0, q.y); x1 = Math.max(x1, q.x); y1 = Math.max(y1, q.y);
      });
    });
    if (!isFinite(x0)) return null;
    pad = pad === undefined ? 8 : pad;
    return { x: x0 - pad, y: y0 - pad, w: x1 - x0 + 2 * pad, h: y1 - y0 + 2 * pad };
  }

  function smallestFont(svg) {
    let least = Infinity;
    svg.querySelectorAll("text").forEach(function (t) {
      if (!t.textContent.trim()) return;
      least = Math.min(least, parseFloat(getComputedStyle(t).fontSize));
    });
    return isFinite(least) ? least : MIN_TEXT_PX;
  }

  function fit(svg) {
    if (!svg._crop) {
      svg.removeAttribute("width");
      svg.removeAttribute("height");
      svg._crop = contentBox(svg, function () { return true; }) ||
        (function (b) { return { x: b.x, y: b.y, w: b.width, h: b.height }; })(svg.viewBox.baseVal);
      svg._least = smallestFont(svg);
      const c = svg._crop;
      svg.setAttribute("viewBox", [c.x, c.y, c.w, c.h].join(" "));
    }
    const pane = svg.closest(".closeup"), sheet = svg.parentNode, c = svg._crop;
    const readable = MIN_TEXT_PX / svg._least;            // CSS pixels per SVG unit: the smallest text at 18 px
    const whole = Math.min(pane.clientWidth / c.w, pane.clientHeight / c.h);
    const k = Math.max(readable, Math.min(whole, readable * MAX_BLOW_UP));
    const w = Math.ceil(c.w * k), h = Math.ceil(c.h * k);
    svg.style.width = w + "px";
    svg.style.height = h + "px";
    sheet.style.width = w + "px";
    sheet.style.height = h + "px";
    const pans = w > pane.clientWidth + 1 || h > pane.clientHeight + 1;
    pane.classList.toggle("pans", pans);
    pinLanes(svg, sheet, k, pans);
  }

  // The lane names stay on the left while a wide close-up is panned: a copy of the drawing's lane-title
  // column, sticky at the pane's left edge (present.css), over the drawing itself.
  function pinLanes(svg, sheet, k, pans) {
    let pin = sheet.querySelector(".lane-pin");
    if (!pans) { if (pin) pin.remove(); return; }
    const c = svg._crop;
    if (svg._lanes === undefined) svg._lanes = contentBox(svg, function (el) { return isLaneTitle(el); }, 0);
    const lanes = svg._lanes;
    if (!lanes) return;
    if (!pin) {
      pin = document.createElement("div");
      pin.className = "lane-pin";
      pin.setAttribute("aria-hidden", "true");
      const copy = svg.cloneNode(true);
      copy.querySelectorAll("g.node, g.edge").forEach(function (g) { if (!isLaneTitle(g)) g.remove(); });
      copy.querySelectorAll("[id]").forEach(function (el) { el.removeAttribute("id"); });
      pin.appendChild(copy);
      sheet.insertBefore(pin, svg);
    }
    const right = lanes.x + lanes.w + 6, copy = pin.querySelector("svg");
    copy.setAttribute("viewBox", [c.x, c.y, right - c.x, c.h].join(" "));
    copy.style.width = Math.ceil((right - c.x) * k) + "px";
    copy.style.height = Math.ceil(c.h * k) + "px";
    pin.style.width = copy.style.width;
    pin.style.height = copy.style.height;
  }

  function isLaneTitle(g) {
    const t = g.querySelector(":scope > title");
    return !!t && t.textContent.indexOf("lane:") === 0;
  }

  // Where a slide opens: the place that shows the most of the stage's steps whole, to the right of the
  // pinned lane names (the first such place in the drawing's order: the stage's start comes first).
  function firstLook(pane) {
    const sheet = pane.querySelector(".pan");
    const steps = sheet ? sheet.querySelectorAll(":scope > svg g.step") : [];
    if (!steps.length) return { x: 0, y: 0 };
    const origin = sheet.getBoundingClientRect(), pin = pane.querySelector(".lane-pin");
    const left = pin ? pin.offsetWidth : 0, margin = 24, w = pane.clientWidth - left, h = pane.clientHeight;
    const boxes = Array.prototype.map.call(steps, function (g) {
      const r = g.getBoundingClientRect();
      return { x: r.left - origin.left, y: r.top - origin.top, r: r.right - origin.left, b: r.bottom - origin.top };
    });
    let best = { x: 0, y: 0, n: -1 };
    [{ x: 0, y: 0 }].concat(boxes.map(function (a) {
      return { x: Math.max(0, a.x - left - margin), y: Math.max(0, a.y - margin) };
    })).forEach(function (at) {
      const n = boxes.filter(function (b) {
        return b.x >= at.x + left && b.r <= at.x + left + w && b.y >= at.y && b.b <= at.y + h;
      }).length;
      if (n > best.n) best = { x: at.x, y: at.y, n: n };
    });
    return best;
  }

  function pan(dx, dy) {
    const pane = slides()[index()].querySelector(".closeup");
    if (!pane) return;
    pane.scrollBy({ left: dx * pane.clientWidth * PAN_STEP, top: dy * pane.clientHeight * PAN_STEP });
  }

  function dragToPan(pane) {
    const id = pane.closest(".slide").dataset.slide;
    pane.addEventListener("scroll", function () { state.scroll[id] = { x: pane.scrollLeft, y: pane.scrollTop }; });
    let drag = null;
    pane.addEventListener("pointerdown", function (e) {
      if (e.button !== 0) return;
      drag = { x: e.clientX, y: e.clientY, left: pane.scrollLeft, top: pane.scrollTop, moved: false, id: e.pointerId };
    });
    pane.addEventListener("pointermove", function (e) {
      if (!drag) return;
      const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
      if (!drag.moved) { drag.moved = true; pane.setPointerCapture(drag.id); pane.classList.add("dragging"); }
      pane.scrollLeft = drag.left - dx;
      pane.scrollTop = drag.top - dy;
    });
    function end() { drag = null; pane.classList.remove("dragging"); }
    pane.addEventListener("pointerup", end);
    pane.addEventListener("pointercancel", end);
  }

  // ------------------------------------------------------------------ set up (again after each reload)

  function setUp() {
    const d = deck();
    if (!d) return;
    document.querySelectorAll(".closeup").forEach(dragToPan);
    document.querySelectorAll(".stages tr[data-goto]").forEach(function (row) {
      row.addEventListener("click", function () { go(row.dataset.goto); });
    });
    const wanted = state.current !== null ? state.current : d.dataset.start;
    go(wanted || "", true);
  }

  function go(id, again) {
    const all = slides();
    let i = all.findIndex(function (s) { return s.dataset.slide === id; });
    if (i < 0) i = again ? Math.min(state.last || 0, all.length - 1) : 0; // that stage is gone: stay near
    state.last = i;
    show(i);
  }

  document.addEventListener("keydown", function (e) {
    if (!deck() || e.ctrlKey || e.altKey || e.metaKey) return;
    if (e.target && /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName)) return;
    const i = index(), last = slides().length - 1;
    let to = null;
    if (e.shiftKey && /^Arrow/.test(e.key)) {
      pan(e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0,
          e.key === "ArrowDown" ? 1 : e.key === "ArrowUp" ? -1 : 0);
      e.preventDefault();
      return;
    }
    if (e.key === "ArrowRight" || e.key === "ArrowDown" || e.key === "PageDown" || e.key === " ") to = i + 1;
    else if (e.key === "ArrowLeft" || e.key === "ArrowUp" || e.key === "PageUp") to = i - 1;
    else if (e.key === "Home") to = 0;
    else if (e.key === "End") to = last;
    else if (e.key === "Escape") { location.href = deck().dataset.back; e.preventDefault(); return; }
    if (to === null) return;
    e.preventDefault();
    state.last = Math.max(0, Math.min(last, to));
    show(state.last);
  });

  window.addEventListener("resize", function () {
    const svg = slides().length ? slides()[index()].querySelector(".closeup svg") : null;
    if (svg) fit(svg);
  });

  document.addEventListener("DOMContentLoaded", function () {
    setUp();
    const main = document.getElementById("content");
    // serve.js replaces the content on a save: show the same slide, at the same place
    new MutationObserver(function (records) {
      if (records.some(function (r) { return r.type === "childList"; })) setUp();
    }).observe(main, { childList: true });
  });
})();
