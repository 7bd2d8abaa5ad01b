// Upvote toggle without a page reload: POST/DELETE /api/papers/{id}/upvote with the CSRF header.
(function () {
  if (window.__paperwireCommunity) return;
  window.__paperwireCommunity = true;
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
        headers: { "X-CSRF-Token": form.dataset.csrf, "Accept": "application/json" },
        credentials: "same-origin",
      });
      if (!response.ok) { form.submit(); return; }
      const state = await response.json();
      action.value = state.upvoted ? "remove" : "add";
      button.classList.toggle("voted", state.upvoted);
      button.setAttribute("aria-pressed", state.upvoted ? "true" : "false");
      button.querySelector(".upvote-label").textContent = state.upvoted ? "Upvoted" : "Upvote";
      const scope = form.closest("article[data-paper-id]") || form.parentElement;
      scope.querySelectorAll(".upvote-total, .upvote-count").forEach(function (el) {
        el.textContent = state.upvotes;
      });
    } finally {
      button.disabled = false;
    }
  });
})();
