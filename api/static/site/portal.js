/* dematflow supplier portal: drag and drop, one upload per file with its progress bar (XMLHttpRequest),
   posted to the JSON API with the session's anti-CSRF token. Without this file the form posts as usual. */
(function () {
  "use strict";

  function start() {
    var form = document.getElementById("depot");
    if (!form || !window.FormData || !window.XMLHttpRequest) { return; }
    var input = document.getElementById("fichiers");
    var zone = document.getElementById("zone");
    var list = document.getElementById("resultats");
    var section = document.getElementById("resultats-section");
    var msg = form.dataset;

    zone.classList.add("dropzone-active");
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("dropzone-over");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("dropzone-over"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        input.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var files = Array.prototype.slice.call(input.files || []);
      if (!files.length) { input.focus(); return; }
      section.hidden = false;
      files.forEach(function (file) { upload(file); });
      input.value = "";
    });

    function field(name) {
      var element = form.elements.namedItem(name);
      return element && element.value ? element.value.trim() : "";
    }

    function upload(file) {
      var item = document.createElement("li");
      item.className = "result result-pending";
      var name = document.createElement("span");
      name.className = "result-name";
      name.textContent = file.name;
      var bar = document.createElement("progress");
      bar.max = 100;
      bar.value = 0;
      bar.setAttribute("aria-label", msg.msgProgress.replace("{name}", file.name));
      var text = document.createElement("span");
      text.className = "result-text";
      text.textContent = msg.msgSending;
      item.append(name, bar, text);
      list.appendChild(item);

      var data = new FormData();
      data.append("file", file, file.name);
      ["order_number", "supplier_reference", "comment"].forEach(function (key) {
        if (field(key)) { data.append(key, field(key)); }
      });
      var xhr = new XMLHttpRequest();
      xhr.open("POST", msg.endpoint);
      xhr.setRequestHeader("X-CSRF-Token", msg.csrf);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) { bar.value = Math.round((event.loaded / event.total) * 100); }
      });
      xhr.addEventListener("load", function () { finish(xhr, item, bar, text, file.name); });
      xhr.addEventListener("error", function () { fail(item, text, msg.msgFailed); });
      xhr.send(data);
    }

    function finish(xhr, item, bar, text, filename) {
      var body = {};
      try { body = JSON.parse(xhr.responseText || "{}"); } catch (ignored) { body = {}; }
      if (xhr.status === 202 && body.id) {
        bar.value = 100;
        item.className = "result result-ok";
        text.textContent = body.duplicate ? msg.msgDuplicate : msg.msgDone;
        var link = document.createElement("a");
        link.href = msg.docUrl + encodeURIComponent(body.id);
        link.textContent = msg.msgSee;
        var hidden = document.createElement("span");
        hidden.className = "sr-only";
        hidden.textContent = " " + filename;
        link.appendChild(hidden);
        item.appendChild(link);
      } else if (xhr.status === 401 || xhr.status === 403) {
        fail(item, text, msg.msgExpired);
      } else {
        fail(item, text, msg.msgFailed + (body.detail ? " : " + body.detail : ""));
      }
    }

    function fail(item, text, message) {
      item.className = "result result-error";
      text.textContent = message;
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
