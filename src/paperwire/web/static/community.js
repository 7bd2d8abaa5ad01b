// Upvote toggle without a page reload: POST/DELETE /api/papers/{id}/upvote with the CSRF header.
(function () {
  if (window.__paperwireCommunity) return;
  window.__paperwireCommunity = true;
  function csrf(form) {
    const field = form.querySelector("input[name=csrf_token]");
    return form.dataset.csrf || (field ? field.value : "");
  }
  document.addEventListener("submit", async function (event) {
    const form = event.target;
    if (!form.classList || !form.classList.contains("upvote-form")) return;
    event.preventDefault();
    const id = form.dataset.paperId;
    const action = form.querySelector("input[name=action]");
    const adding = action.value === "add";
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      const response = await fetch("/api/papers/" + id + "/upvote", {
        method: adding ? "POST" : "DELETE",
        headers: { "X-CSRF-Token": csrf(form), "Accept": "application/json" },
        credentials: "same-origin",
      });
      if (!response.ok) { form.submit(); return; }
      const state = await response.json();
      action.value = state.upvoted ? "remove" : "add";
      button.classList.toggle("voted", state.upvoted);
      button.setAttribute("aria-pressed", state.upvoted ? "true" : "false");
      const label = button.querySelector(".upvote-label");
      if (label) {
        label.textContent = form.classList.contains("card-votes")
          ? (state.upvoted ? "upvotes: you upvoted, remove" : "upvotes: upvote")
          : (state.upvoted ? "Upvoted" : "Upvote");
      }
      const counts = form.classList.contains("card-votes")
        ? form.querySelectorAll(".upvote-total")
        : document.querySelectorAll(".paper-vote .upvote-count");
      counts.forEach(function (el) {
        el.textContent = Number(state.upvotes).toLocaleString("en-US");
      });
    } finally {
      button.disabled = false;
    }
  });
})();
