/* dematflow review screen: claim the document, fill fields from the page (a word clicked, a box drawn and
   OCR'd), live check digits and totals, decide, and the keyboard flow (Enter confirms and opens the next,
   Ctrl+Arrow next/previous, Esc back to the queue). Without this file the page reads only. */
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var MIN_DRAG = 6; // viewBox units (of 1000): below this a press is a click, not a drawn box

  function start() {
    var holder = document.getElementById("revue-donnees");
    if (!holder || !window.fetch) { return; }
    var data = JSON.parse(holder.textContent || "{}");
    var msg = data.messages || {};
    var version = data.version;
    var page = data.page;
    var claimed = false;
    var busy = false;
    var active = null; // the field input filled by a word or a drawn box
    var inputs = Array.prototype.slice.call(document.querySelectorAll(".review-input"));
    var svg = document.getElementById("calque");
    var trace = document.getElementById("trace");
    var status = document.getElementById("annonce");
    var alert = document.getElementById("alerte");
    var originals = {};
    inputs.forEach(function (input) { originals[input.name] = input.value; });

    function fmt(text, values) {
      return String(text || "").replace(/\{(\w+)\}/g, function (all, key) {
        return values && values[key] !== undefined ? values[key] : all;
      });
    }
    function say(text) {
      status.hidden = false;
      status.textContent = text;
    }
    function warn(text) {
      alert.hidden = false;
      document.getElementById("alerte-texte").textContent = text;
    }
    /* what the memory learnt (or the Factur-X made) is said on the page the confirm opens next */
    var FLASH = "dematflow.revue.flash";
    function remember(done) {
      var notes = [];
      var taught = done.memory_taught;
      if (taught && taught.at && Date.now() - Date.parse(taught.at) < 60000) {
        notes.push(fmt(msg["msg.taught"], { name: taught.supplier || taught.supplier_key }));
      }
      if (done.facturx && done.facturx.built) { notes.push(msg["msg.facturx"]); }
      try { if (notes.length) { window.sessionStorage.setItem(FLASH, notes.join(" ")); } } catch (ignored) {}
    }
    function recall() {
      try {
        var text = window.sessionStorage.getItem(FLASH);
        if (text) { window.sessionStorage.removeItem(FLASH); }
        return text || "";
      } catch (ignored) { return ""; }
    }
    var flash = recall();
    function api(method, url, body) {
      var options = { method: method, credentials: "same-origin", keepalive: method === "DELETE",
        headers: { "Accept": "application/json", "X-CSRF-Token": data.csrf } };
      if (body !== undefined) {
        options.headers["Content-Type"] = "application/json";
        options.body = JSON.stringify(body);
      }
      return fetch(url, options).then(function (response) {
        return response.text().then(function (text) {
          var parsed = {};
          try { parsed = text ? JSON.parse(text) : {}; } catch (ignored) { parsed = {}; }
          return { status: response.status, body: parsed };
        });
      });
    }
    var base = "/api/v1/review/" + encodeURIComponent(data.id);
    var docBase = "/api/v1/documents/" + encodeURIComponent(data.id);

    /* --- claim and leave --- */
    /* once the document is claimed (or only read): the seal is checked (htmx, #cachet-zone) and the next
       document's first page is fetched into the browser's cache, so the page and Enter stay quick */
    function ready() {
      document.dispatchEvent(new CustomEvent("revue-pret"));
      if (data.next) {
        api("GET", "/portail/revue/" + encodeURIComponent(data.next) + "/preparer");
        var next = new Image();
        next.decoding = "async";
        next.src = "/api/v1/documents/" + encodeURIComponent(data.next) + "/pages/1.png?width=" + data.width;
      }
    }
    function reserved() { // the moment the fields became editable, for benchmarks/review_flow.py
      if (window.performance && performance.mark) { performance.mark("revue-reserve"); }
    }
    function whenLoaded(task) {
      if (document.readyState === "complete") { window.setTimeout(task, 0); } else { window.addEventListener("load", task); }
    }
    function claim() {
      if (!data.decide) { whenLoaded(ready); return; }
      if (data.mine) { // claimed with the previous document's decision (or still held): editable at once
        claimed = true;
        unlock();
        say(msg["msg.claimed"] + (flash ? " " + flash : ""));
        flash = "";
        reserved();
        whenLoaded(ready);
        return;
      }
      api("POST", base + "/claim").then(function (answer) {
        window.setTimeout(ready, 0);
        if (answer.status === 200) {
          claimed = true;
          if (answer.body.version !== undefined) { version = answer.body.version; }
          unlock();
          say(msg["msg.claimed"] + (flash ? " " + flash : ""));
          flash = "";
          reserved();
        } else if (answer.status === 409) {
          var who = answer.body.held_by || (answer.body.lock && answer.body.lock.by) || "?";
          say(fmt(msg["msg.held"], { name: who }));
        } else {
          warn(msg["msg.failed"] + (answer.body.detail ? " : " + answer.body.detail : ""));
        }
      });
    }
    function unlock() {
      inputs.forEach(function (input) { input.readOnly = false; });
      document.querySelectorAll(".candidate, #decision button, #decision select, #decision textarea, #decision input, " +
                                "#deriver button, #deriver input")
        .forEach(function (element) { element.disabled = false; });
      document.querySelectorAll(".word-button").forEach(function (b) { b.tabIndex = 0; });
      var first = inputs[0];
      if (first && (document.activeElement === document.body || !document.activeElement)) { first.focus(); }
    }
    function leave(url) {
      if (!url) { return; }
      if (!claimed) { window.location.href = url; return; }
      claimed = false;
      var go = function () { window.location.href = url; };
      api("DELETE", base + "/claim").then(go, go);
    }

    /* --- filling a field --- */
    function fill(input, text) {
      if (!input) { say(msg["msg.nofield"]); return; }
      if (input.readOnly) { return; }
      input.value = text;
      input.dispatchEvent(new Event("input", { bubbles: true }));
      input.focus();
      var label = document.querySelector("label[for='" + input.id + "']");
      say(fmt(msg["msg.filled"], { field: label ? label.textContent.trim() : input.name, value: text }));
    }
    inputs.forEach(function (input) {
      input.addEventListener("focus", function () {
        active = input;
        highlight(input.dataset.term);
        var wanted = parseInt(input.dataset.page || "1", 10);
        if (wanted !== page && document.querySelector(".thumb[data-page='" + wanted + "']")) { showPage(wanted); }
      });
      input.addEventListener("input", function () { check(input); totals(); });
    });
    function highlight(term) {
      document.querySelectorAll("#champs-calque rect").forEach(function (rect) {
        rect.classList.toggle("active", rect.dataset.term === term);
      });
    }
    document.addEventListener("click", function (event) {
      var target = event.target.closest ? event.target.closest(".candidate, .word-button") : null;
      if (!target) { return; }
      if (target.classList.contains("candidate")) {
        fill(document.getElementById(target.dataset.for), target.dataset.value);
      } else {
        fill(active, target.dataset.text);
      }
    });

    /* --- the page: click a word, or drag a box to OCR it --- */
    var origin = null;
    function point(event) {
      var r = svg.getBoundingClientRect();
      return { x: Math.max(0, Math.min(1000, (event.clientX - r.left) / r.width * 1000)),
        y: Math.max(0, Math.min(1000, (event.clientY - r.top) / r.height * 1000)) };
    }
    function setBox(rect, a, b) {
      rect.setAttribute("x", Math.min(a.x, b.x));
      rect.setAttribute("y", Math.min(a.y, b.y));
      rect.setAttribute("width", Math.abs(a.x - b.x));
      rect.setAttribute("height", Math.abs(a.y - b.y));
    }
    svg.addEventListener("mousedown", function (event) {
      if (event.button !== 0) { return; }
      event.preventDefault(); // keep the focus (and the caret) in the active field
      origin = point(event);
    });
    svg.addEventListener("mousemove", function (event) {
      if (!origin) { return; }
      var here = point(event);
      if (Math.abs(here.x - origin.x) + Math.abs(here.y - origin.y) >= MIN_DRAG) {
        trace.classList.remove("off");
        setBox(trace, origin, here);
      }
    });
    window.addEventListener("mouseup", function (event) {
      if (!origin) { return; }
      var from = origin;
      var to = point(event);
      origin = null;
      trace.classList.add("off");
      if (Math.abs(to.x - from.x) < MIN_DRAG && Math.abs(to.y - from.y) < MIN_DRAG) {
        var word = event.target.closest ? event.target.closest("rect.word") : null;
        if (word) { fill(active, word.dataset.text); }
        return;
      }
      ocr([Math.min(from.x, to.x) / 1000, Math.min(from.y, to.y) / 1000,
        Math.max(from.x, to.x) / 1000, Math.max(from.y, to.y) / 1000]);
    });
    function ocr(box) {
      var target = active;
      if (!target || target.readOnly) { say(msg["msg.nofield"]); return; }
      say(msg["msg.ocr"]);
      api("POST", docBase + "/pages/" + page + "/ocr", { box: box }).then(function (answer) {
        if (answer.status === 200 && typeof answer.body.text === "string") {
          fill(target, answer.body.text.trim());
        } else {
          warn(msg["msg.failed"] + (answer.body.detail ? " : " + answer.body.detail : ""));
        }
      });
    }

    /* --- pages and thumbnails --- */
    function showPage(n) {
      page = n;
      var image = document.getElementById("page-image");
      image.src = docBase + "/pages/" + n + ".png?width=" + data.width;
      image.alt = fmt(msg["review.image"], { n: n });
      document.getElementById("page-titre").textContent = fmt(msg["review.page"], { n: n, total: data.pages });
      document.querySelectorAll(".thumb").forEach(function (thumb) {
        if (parseInt(thumb.dataset.page, 10) === n) { thumb.setAttribute("aria-current", "page"); }
        else { thumb.removeAttribute("aria-current"); }
      });
      document.querySelectorAll("#champs-calque rect").forEach(function (rect) {
        rect.classList.toggle("off", parseInt(rect.dataset.page || "1", 10) !== n);
      });
      fetch(docBase + "/words?page=" + n, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { words: [] }; })
        .then(function (body) { showWords(body.words || []); });
    }
    function showWords(words) {
      var layer = document.getElementById("mots-calque");
      var list = document.getElementById("mots");
      layer.replaceChildren();
      list.replaceChildren();
      words.forEach(function (w) {
        if (w.box) {
          var rect = document.createElementNS(SVG, "rect");
          rect.setAttribute("class", "word");
          rect.dataset.text = w.text;
          setBox(rect, { x: w.box[0] * 1000, y: w.box[1] * 1000 }, { x: w.box[2] * 1000, y: w.box[3] * 1000 });
          layer.appendChild(rect);
        }
        var item = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "word-button";
        button.dataset.text = w.text;
        button.textContent = w.text;
        button.tabIndex = claimed ? 0 : -1;
        item.appendChild(button);
        list.appendChild(item);
      });
    }
    document.querySelectorAll(".thumb").forEach(function (thumb) {
      thumb.addEventListener("click", function (event) {
        event.preventDefault();
        showPage(parseInt(thumb.dataset.page, 10));
      });
    });

    /* --- live checks --- */
    function digits(value) { return value.replace(/[\s.\-]/g, ""); }
    function luhn(number) {
      var sum = 0;
      for (var i = 0; i < number.length; i += 1) {
        var d = number.charCodeAt(number.length - 1 - i) - 48;
        if (i % 2 === 1) { d *= 2; if (d > 9) { d -= 9; } }
        sum += d;
      }
      return sum % 10 === 0;
    }
    function sirenOk(value) {
      var v = digits(value);
      return /^(\d{9}|\d{14})$/.test(v) && luhn(v);
    }
    function vatOk(value) {
      var v = digits(value).toUpperCase();
      var m = /^FR(\d{2})(\d{9})$/.exec(v);
      if (!m) { return /^FR[A-HJ-NP-Z0-9]{2}\d{9}$/.test(v); } // alphanumeric keys: new-style, not computable
      return parseInt(m[1], 10) === (12 + 3 * (parseInt(m[2], 10) % 97)) % 97;
    }
    function ibanOk(value) {
      var v = value.replace(/\s/g, "").toUpperCase();
      if (!/^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$/.test(v)) { return false; }
      var moved = v.slice(4) + v.slice(0, 4);
      var rest = 0;
      for (var i = 0; i < moved.length; i += 1) {
        var c = moved.charAt(i);
        var n = c >= "A" ? String(c.charCodeAt(0) - 55) : c;
        for (var j = 0; j < n.length; j += 1) { rest = (rest * 10 + (n.charCodeAt(j) - 48)) % 97; }
      }
      return rest === 1;
    }
    var CHECKS = { siren: sirenOk, vat: vatOk, iban: ibanOk };
    function check(input) {
      var kind = input.dataset.check;
      if (!kind) { return; }
      var out = document.getElementById(input.id + "-check");
      if (!input.value.trim()) { out.textContent = ""; input.removeAttribute("aria-invalid"); return; }
      var ok = CHECKS[kind](input.value);
      out.className = "check " + (ok ? "check-ok" : "check-bad");
      out.textContent = (ok ? "✓ " : "⚠ ") + msg["check." + kind + (ok ? ".ok" : ".bad")];
      if (ok) { input.removeAttribute("aria-invalid"); } else { input.setAttribute("aria-invalid", "true"); }
    }
    function amount(term) {
      var input = document.querySelector(".review-input[data-term='" + term + "']");
      if (!input || !input.value.trim()) { return null; }
      var v = input.value.replace(/[\s\u00a0\u202f€]|EUR/g, "");
      if (v.indexOf(",") >= 0) { v = v.replace(/\./g, "").replace(",", "."); }
      var n = Number(v);
      return isNaN(n) ? null : n;
    }
    function money(n) { return n.toFixed(2).replace(".", ","); }
    function totals() {
      var out = document.getElementById("totaux-texte");
      var ht = amount("BT-109");
      var tva = amount("BT-110");
      var ttc = amount("BT-112");
      if (ht === null || tva === null || ttc === null) { out.textContent = msg["check.totals.missing"]; return; }
      var sum = Math.round((ht + tva) * 100) / 100;
      var ok = Math.abs(sum - ttc) < 0.005;
      out.textContent = (ok ? "✓ " : "⚠ ") + fmt(msg[ok ? "check.totals.ok" : "check.totals.bad"],
        { ht: money(ht), tva: money(tva), sum: money(sum), ttc: money(ttc) });
    }
    inputs.forEach(check);
    if (document.querySelector(".review-input[data-term='BT-109']")) { totals(); }

    /* --- decisions --- */
    function changed() {
      var out = {};
      inputs.forEach(function (input) {
        if (input.value !== originals[input.name]) { out[input.name] = input.value.trim(); }
      });
      return out;
    }
    function decide(action) {
      if (!claimed || busy) { return; }
      var reason = document.getElementById("motif");
      var message = document.getElementById("message");
      var body = { action: action, version: version, fields: changed(), message: message ? message.value.trim() : "" };
      if (action === "confirm") {
        body.approve = document.getElementById("approuver").checked;
        var facturx = document.getElementById("facturx-option");
        body.facturx = !!(facturx && facturx.checked);
      } else if (action === "suspend") {
        body.reason = "JUSTIF_ABS";
      } else {
        if (!reason.value) { warn(msg["msg.reason"]); reason.focus(); return; }
        body.reason = reason.value;
      }
      busy = true;
      say(msg["msg.saving"]);
      /* the next document is claimed while this decision is saved: it then opens editable at once */
      var nextClaim = data.next ? "/api/v1/review/" + encodeURIComponent(data.next) + "/claim" : "";
      var ahead = nextClaim ? api("POST", nextClaim) : Promise.resolve(null);
      api("POST", base + "/decision", body).then(function (answer) {
        busy = false;
        if (answer.status === 200) {
          claimed = false;
          say(msg["msg.done"]);
          if (action === "confirm") { remember(answer.body); }
          var go = function () {
            window.location.href = data.next ? "/portail/revue/" + encodeURIComponent(data.next) + data.query
              : data.back;
          };
          ahead.then(go, go);
          return;
        }
        ahead.then(function (taken) { if (taken && taken.status === 200) { api("DELETE", nextClaim); } });
        if (answer.status === 409 && !answer.body.held_by) {
          warn(msg["msg.stale"]);
          document.getElementById("recharger").focus();
        } else if (answer.status === 409 || answer.status === 423) {
          warn(fmt(msg["msg.locked"], { name: answer.body.held_by || (answer.body.lock || {}).by || "?" }));
        } else {
          warn(msg["msg.failed"] + (answer.body.detail ? " : " + answer.body.detail : ""));
        }
      }, function () { busy = false; warn(msg["msg.failed"]); });
    }
    var form = document.getElementById("champs");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      decide("confirm");
    });
    document.querySelectorAll("#decision button[data-action]").forEach(function (button) {
      button.addEventListener("click", function () { decide(button.dataset.action); });
    });

    /* --- split and merge: new documents derived from the pages, the original kept as received --- */
    function parts(text) { // "1-2 ; 3" -> [[1, 2], [3]], null when not understood
      var out = [];
      var groups = String(text).split(";");
      for (var g = 0; g < groups.length; g++) {
        var pages = [];
        var items = groups[g].split(",");
        for (var i = 0; i < items.length; i++) {
          var item = items[i].trim();
          if (!item) { continue; }
          var range = /^(\d+)\s*-\s*(\d+)$/.exec(item);
          if (range) {
            for (var n = +range[1]; n <= +range[2] && pages.length < 10000; n++) { pages.push(n); }
          } else if (/^\d+$/.test(item)) { pages.push(+item); } else { return null; }
        }
        if (pages.length) { out.push(pages); }
      }
      return out.length ? out : null;
    }
    function derived(answer) {
      busy = false;
      if (answer.status === 201) {
        claimed = false;
        say(fmt(msg["msg.derived"], { count: answer.body.documents.length }));
        window.location.href = data.back;
      } else if (answer.status === 409 && !answer.body.held_by) {
        warn(answer.body.current_version !== undefined ? msg["msg.stale"] : msg["msg.failed"] +
             (answer.body.detail ? " : " + answer.body.detail : ""));
      } else if (answer.status === 409 || answer.status === 423) {
        warn(fmt(msg["msg.locked"], { name: answer.body.held_by ? answer.body.held_by.by : "?" }));
      } else {
        warn(msg["msg.failed"] + (answer.body.detail ? " : " + answer.body.detail : ""));
      }
    }
    var splitButton = document.getElementById("decouper");
    if (splitButton) {
      splitButton.addEventListener("click", function () {
        if (!claimed || busy) { return; }
        var field = document.getElementById("decoupe");
        var wanted = parts(field.value);
        if (!wanted) { warn(msg["msg.parts"]); field.focus(); return; }
        busy = true;
        say(msg["msg.saving"]);
        api("POST", base + "/split", { version: version, parts: wanted }).then(derived, function () {
          busy = false; warn(msg["msg.failed"]);
        });
      });
    }
    var mergeButton = document.getElementById("fusionner");
    if (mergeButton && data.next) {
      mergeButton.addEventListener("click", function () {
        if (!claimed || busy) { return; }
        busy = true;
        say(msg["msg.saving"]);
        api("GET", "/api/v1/review/" + encodeURIComponent(data.next)).then(function (other) {
          if (other.status !== 200) { busy = false; warn(msg["msg.failed"]); return undefined; }
          var body = { version: version, others: [{ id: data.next, version: other.body.version }] };
          return api("POST", base + "/merge", body).then(derived);
        }, function () { busy = false; warn(msg["msg.failed"]); });
      });
    }

    /* --- keyboard --- */
    function neighbour(id) { return id ? "/portail/revue/" + encodeURIComponent(id) + data.query : null; }
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey && !event.altKey && (event.key === "ArrowRight" || event.key === "ArrowLeft")) {
        var url = neighbour(event.key === "ArrowRight" ? data.next : data.previous);
        if (url) { event.preventDefault(); leave(url); }
      } else if (event.key === "Escape") {
        event.preventDefault();
        leave(data.back);
      } else if (event.key === "Enter" && !event.ctrlKey && !event.altKey && !event.shiftKey &&
                 (event.target === document.body || event.target.id === "contenu")) {
        event.preventDefault();
        decide("confirm");
      }
    });
    document.getElementById("retour").addEventListener("click", function (event) {
      if (claimed) { event.preventDefault(); leave(data.back); }
    });
    ["precedent", "suivant"].forEach(function (id) {
      var link = document.getElementById(id);
      if (link) {
        link.addEventListener("click", function (event) {
          if (claimed) { event.preventDefault(); leave(link.href); }
        });
      }
    });
    if (flash && !data.decide) { say(flash); flash = ""; }
    claim();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
