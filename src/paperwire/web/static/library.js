// Save papers without a page reload. Cards carry <a class="save-link" data-paper-id>; the
// paper page has <form class="save-form">. Without JavaScript both work as a link/form.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (!meta) return; // signed out: the links lead to the login page
  var token = meta.getAttribute("content");

  function show(el, saved) {
    el.classList.toggle("saved", saved);
    el.setAttribute("aria-pressed", saved ? "true" : "false");
    var label = el.tagName === "FORM" ? el.querySelector("button") : el;
    label.textContent = saved ? "★ Saved" : "☆ Save";
    if (el.tagName === "FORM") {
      el.querySelector("input[name=action]").value = saved ? "remove" : "add";
    }
    el.dataset.saved = saved ? "1" : "";
  }

  function toggle(el) {
    var id = el.dataset.paperId;
    var saving = !el.dataset.saved;
    return fetch("/api/library/papers/" + id, {
      method: saving ? "POST" : "DELETE",
      headers: { "X-CSRF-Token": token, "Accept": "application/json" },
      credentials: "same-origin",
    }).then(function (response) {
      if (!response.ok) throw new Error("save failed");
      return response.json();
    }).then(function (state) {
      document.querySelectorAll('[data-paper-id="' + CSS.escape(id) + '"].save-link, form.save-form[data-paper-id="' + CSS.escape(id) + '"]')
        .forEach(function (other) { show(other, state.saved); });
    });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a.save-link") : null;
    if (!link) return;
    event.preventDefault();
    toggle(link).catch(function () { window.location.href = link.href; });
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("save-form")) return;
    event.preventDefault();
    toggle(form).catch(function () { form.submit(); });
  });

  document.querySelectorAll("form.save-form").forEach(function (form) {
    form.dataset.saved = form.querySelector("input[name=action]").value === "remove" ? "1" : "";
  });
  var links = Array.prototype.slice.call(document.querySelectorAll("a.save-link[data-paper-id]"));
  if (!links.length) return;
  var ids = links.map(function (a) { return a.dataset.paperId; });
  fetch("/api/library/saved?ids=" + encodeURIComponent(ids.join(",")), { credentials: "same-origin" })
    .then(function (r) { return r.ok ? r.json() : { saved: [] }; })
    .then(function (data) {
      var saved = new Set(data.saved);
      links.forEach(function (a) { show(a, saved.has(a.dataset.paperId)); });
    });
})();
