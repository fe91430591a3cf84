// The admin's little script: conveniences on top of pages that work without it.
// Copy buttons, a confirmation before what cannot be undone, filters that apply as they
// change, and ending a session without reloading the page (the CSRF token goes in a
// header, as every script request of the admin must carry it). In the campaign studio:
// the Markdown toolbar, the preview refreshed as staff type, a draft saved as staff type
// (its status said aloud), and the live progress of a send (server-sent events).
"use strict";

(function () {
  function copyButtons() {
    document.querySelectorAll("[data-copy], [data-copy-from]").forEach(function (button) {
      if (!navigator.clipboard) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        var source = button.getAttribute("data-copy-from");
        var text = source ? document.getElementById(source).textContent : button.getAttribute("data-copy");
        navigator.clipboard.writeText(text.trim()).then(function () {
          button.setAttribute("aria-pressed", "true");
        });
      });
    });
  }

  function confirmations() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
  }

  function autosubmit() {
    document.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
      select.addEventListener("change", function () { select.form.requestSubmit(); });
    });
  }

  function fetchForms() {
    document.querySelectorAll("form[data-fetch]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var body = new FormData(form);
        fetch(form.action, {
          method: "POST",
          body: body,
          credentials: "same-origin",
          headers: {"X-CSRF-Token": body.get("csrf_token"), "X-Requested-With": "fetch"},
        }).then(function (response) {
          if (!response.ok) { form.submit(); return; }
          var row = form.closest("tr");
          if (row) row.remove();
        }).catch(function () { form.submit(); });
      });
    });
  }

  // What each toolbar button writes around the selection (or on its lines).
  var MARKDOWN = {
    heading: {line: "## "},
    bold: {before: "**", after: "**", sample: "bold"},
    italic: {before: "*", after: "*", sample: "italic"},
    link: {before: "[", after: "](https://)", sample: "link"},
    list: {line: "- "},
    quote: {line: "> "},
    image: {before: "![", after: "](https://)", sample: "description of the image"},
  };

  function insertMarkdown(area, kind) {
    var rule = MARKDOWN[kind];
    var start = area.selectionStart, end = area.selectionEnd, text = area.value;
    var chosen = text.slice(start, end);
    var written, caret;
    if (rule.line) {
      var lineStart = text.lastIndexOf("\n", start - 1) + 1;
      var block = text.slice(lineStart, end) || "";
      var lines = block.split("\n").map(function (line) { return rule.line + line; }).join("\n");
      area.setRangeText(lines, lineStart, end, "end");
    } else {
      written = chosen || rule.sample;
      area.setRangeText(rule.before + written + rule.after, start, end, "end");
      caret = start + rule.before.length;
      area.setSelectionRange(caret, caret + written.length);
    }
    area.focus();
    area.dispatchEvent(new Event("input", {bubbles: true}));
  }

  function toolbars() {
    document.querySelectorAll("[data-toolbar]").forEach(function (bar) {
      var area = document.getElementById(bar.getAttribute("aria-controls"));
      if (!area) return;
      bar.hidden = false;
      bar.addEventListener("click", function (event) {
        var button = event.target.closest("button[data-markdown]");
        if (button) insertMarkdown(area, button.getAttribute("data-markdown"));
      });
    });
  }

  // An image of the library goes into the body where the cursor is, as Markdown.
  function libraryImages() {
    var area = document.getElementById("body");
    if (!area) return;
    document.querySelectorAll("button[data-insert]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        area.setRangeText(button.getAttribute("data-insert"), area.selectionStart, area.selectionEnd, "end");
        area.focus();
        area.dispatchEvent(new Event("input", {bubbles: true}));
      });
    });
  }

  function studio() {
    var form = document.querySelector("form[data-studio]");
    if (!form) return;
    var button = document.querySelector("[data-preview-button]");
    var problem = document.getElementById("content-problem");
    var body = document.getElementById("body");
    var timer = null, asked = 0;
    function refresh() {
      var sent = ++asked;
      var data = new FormData(form);
      fetch(form.getAttribute("data-check"), {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: {"X-CSRF-Token": data.get("csrf_token"), "X-Requested-With": "fetch"},
      }).then(function (response) { return response.json(); }).then(function (answer) {
        if (sent !== asked) return; // a newer refresh is on its way
        var found = answer.problem;
        problem.hidden = !found;
        problem.textContent = found ? (found.line ? found.line + ": " : "") + found.message : "";
        if (body) body.setAttribute("aria-invalid", found && found.in_body ? "true" : "false");
        if (!found) form.requestSubmit(button); // into the sandboxed frame, by its name
      });
    }
    function later() {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, 400);
    }
    var saveLater = autosave(form);
    form.addEventListener("input", function () { later(); saveLater(); });
    form.addEventListener("change", function () { later(); saveLater(); });
    document.querySelectorAll("input[name=view], #preview_to").forEach(function (input) {
      input.addEventListener("change", later);
    });
    refresh();
  }

  // The editor posts its form to the same address as its Save button, a moment after
  // staff stop typing; the server answers what it did ("Saved at 14:02", or "Not saved:"
  // and why, with the line of a mistake) and stores a revision only when something
  // changed. A new campaign's first save creates the draft: the answer says where it now
  // lives, and the form moves there (its action, the address bar), so every later save,
  // the Save button's too, edits that draft. One save at a time, the newest text last; a
  // press of Save during a save waits for it, so that it never makes a second draft.
  function autosave(form) {
    var status = document.getElementById("save-status");
    if (!form.hasAttribute("data-autosave") || !status) return function () {};
    var timer = null, busy = false, again = false, held = null;
    function show(text, failed) {
      status.hidden = false;
      status.textContent = text;
      status.classList.toggle("failed", failed);
    }
    function moved(answer) {
      if (!answer.action) return;
      form.setAttribute("action", answer.action);
      window.history.replaceState(null, "", answer.edit_url);
    }
    function save() {
      if (busy) { again = true; return; }
      busy = true;
      var data = new FormData(form);
      fetch(form.action, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: {"X-CSRF-Token": data.get("csrf_token"), "X-Requested-With": "fetch"},
      }).then(function (response) { return response.json(); }).then(function (answer) {
        moved(answer);
        show(answer.message, !answer.saved);
      }).catch(function () {
        show(status.getAttribute("data-failed"), true);
      }).then(function () {
        busy = false;
        if (held) { var press = held; held = null; form.requestSubmit(press.submitter); }
        else if (again) { again = false; save(); }
      });
    }
    form.addEventListener("submit", function (event) {
      var by = event.submitter;
      if (by && by.hasAttribute("formaction")) return; // the preview, into its frame
      window.clearTimeout(timer);
      again = false;
      if (busy) { event.preventDefault(); held = {submitter: by || undefined}; }
    });
    return function later() {
      window.clearTimeout(timer);
      timer = window.setTimeout(save, 1200);
    };
  }

  function previewViews() {
    document.querySelectorAll("form[data-preview-views]").forEach(function (form) {
      form.querySelector("button[type=submit]").hidden = true;
      form.addEventListener("change", function () { form.requestSubmit(); });
    });
  }

  function progress() {
    var panel = document.querySelector("[data-progress]");
    if (!panel || !window.EventSource) return;
    var bar = document.getElementById("done");
    var status = panel.getAttribute("data-status");
    var source = new EventSource(panel.getAttribute("data-progress"));
    function show(name, value) {
      var place = panel.querySelector("[data-value=" + name + "]");
      if (place) place.textContent = value === null ? "—" : Number(value).toLocaleString(document.documentElement.lang);
    }
    source.addEventListener("progress", function (event) {
      var data = JSON.parse(event.data);
      ["sent", "failed", "skipped", "queued", "per_minute", "minutes_left", "done", "total"].forEach(function (name) {
        show(name, data[name]);
      });
      bar.max = data.total || 1;
      bar.value = data.done;
      if (data.status !== status) { source.close(); window.location.reload(); return; }
      // A time zone's hour came: the page as it now stands, with one zone fewer pending.
      var zones = panel.querySelector("[data-zones]");
      if (zones && Number(zones.getAttribute("data-zones")) !== data.zones_pending.length) {
        source.close(); window.location.reload(); return;
      }
      var list = panel.querySelector("[data-problems]");
      if (data.problems.length) {
        list.replaceChildren.apply(list, data.problems.map(function (problem) {
          var item = document.createElement("li");
          item.textContent = (problem.email || "—") + ": " + problem.reply;
          return item;
        }));
      }
    });
    // The send ended (sent, cancelled): the page as it now stands.
    source.addEventListener("end", function () { source.close(); window.location.reload(); });
  }

  // A background job's page: the bar follows the job's status until it ends, then the
  // page reloads to show the outcome. Without the script, the page reloads itself.
  function jobProgress() {
    var panel = document.querySelector("[data-job-status]");
    if (!panel) return;
    var bar = document.getElementById("job-progress");
    var words = document.getElementById("job-percent");
    var template = words.textContent.replace(/\d+/, "{percent}");
    function look() {
      fetch(panel.getAttribute("data-job-status"), {
        credentials: "same-origin",
        headers: {"X-Requested-With": "fetch"},
      }).then(function (response) {
        return response.ok ? response.json() : null;
      }).then(function (status) {
        if (!status) { window.setTimeout(look, 3000); return; }
        bar.value = status.percent;
        bar.textContent = status.percent + " %";
        words.textContent = template.replace("{percent}", status.percent);
        if (status.finished) window.location.reload();
        else window.setTimeout(look, 700);
      }).catch(function () { window.setTimeout(look, 3000); });
    }
    look();
  }

  document.addEventListener("DOMContentLoaded", function () {
    jobProgress();
    copyButtons();
    confirmations();
    autosubmit();
    fetchForms();
    toolbars();
    libraryImages();
    studio();
    previewViews();
    progress();
  });
})();
