// Paperwire: small progressive enhancements; every page works without JavaScript.
(function () {
  "use strict";

  // Copy-to-clipboard buttons: <button class="copy" data-copy-target="ID">.
  document.querySelectorAll("button[data-copy-target]").forEach(function (button) {
    button.addEventListener("click", function () {
      var target = document.getElementById(button.dataset.copyTarget);
      var status = button.parentElement.querySelector(".copy-status");
      if (!target) return;
      var text = target.innerText;
      var done = function (message) { if (status) status.textContent = message; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () { done("Copied."); }, function () { fallback(); });
      } else {
        fallback();
      }
      function fallback() {
        var area = document.createElement("textarea");
        area.value = text;
        area.setAttribute("readonly", "");
        area.style.position = "absolute";
        area.style.left = "-9999px";
        document.body.appendChild(area);
        area.select();
        try { document.execCommand("copy"); done("Copied."); } catch (e) { done("Select the text and copy it."); }
        document.body.removeChild(area);
      }
    });
  });

  // Thumbnails that cannot load (offline, removed upstream) leave no broken-image box.
  document.querySelectorAll(".card-thumb img").forEach(function (img) {
    var hide = function () { img.closest(".card-thumb").hidden = true; };
    if (img.complete && img.naturalWidth === 0 && img.getAttribute("src")) hide();
    img.addEventListener("error", hide);
  });

  // Search-as-you-type: suggestions come from the search page's JSON twin.
  document.querySelectorAll("input[data-suggest]").forEach(function (input) {
    var list = document.getElementById(input.dataset.suggest);
    var timer = null;
    var controller = null;
    var chosen = {};  // suggestion text -> paper id: choosing one opens that paper
    input.addEventListener("input", function (event) {
      clearTimeout(timer);
      var picked = !event.inputType || event.inputType === "insertReplacementText";
      if (picked && Object.prototype.hasOwnProperty.call(chosen, input.value)) {
        window.location.href = "/papers/" + chosen[input.value];
        return;
      }
      var q = input.value.trim();
      if (q.length < 3) { list.innerHTML = ""; return; }
      timer = setTimeout(function () {
        if (controller) controller.abort();
        controller = new AbortController();
        fetch("/search?format=json&limit=6&mode=keyword&q=" + encodeURIComponent(q), { signal: controller.signal })
          .then(function (r) { return r.ok ? r.json() : { papers: [] }; })
          .then(function (data) {
            list.innerHTML = "";
            chosen = {};
            (data.papers || []).forEach(function (paper) {
              var option = document.createElement("option");
              option.value = paper.title.replace(/\s+/g, " ");
              option.dataset.paperId = paper.id;
              chosen[option.value] = paper.id;
              list.appendChild(option);
            });
          })
          .catch(function () {});
      }, 180);
    });
  });
})();
