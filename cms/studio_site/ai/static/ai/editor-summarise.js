// Learning Studio: "Summarise this tutorial" in the tutorial page editor.
// The button (rendered by the AI panel, panels.py) moves under the summary field. It sends what
// is in the editor now (title, intro, text and code blocks, saved or not) and puts the AI's
// summary into the summary field, unsaved: Save draft keeps it, publishing makes it live.
(function () {
  "use strict";

  // The tutorial's text as the editor has it now, in page order.
  function tutorialText(form) {
    const parts = [];
    for (const element of form.querySelectorAll("input, textarea")) {
      const name = element.name || "";
      if (name === "title" || name === "intro") {
        parts.push(element.value);
      } else if (/^body-\d+-value(-code)?$/.test(name)) {
        const deleted = form.querySelector(`input[name="${name.split("-value")[0]}-deleted"]`);
        if (deleted && deleted.value) continue;
        if (element.type === "hidden") {
          // A rich-text block keeps its Draft.js content as JSON in a hidden input.
          try {
            const raw = JSON.parse(element.value);
            if (raw && raw.blocks) parts.push(raw.blocks.map((b) => b.text).join("\n"));
          } catch (error) {
            // not a rich-text block
          }
        } else {
          parts.push(element.value);
        }
      }
    }
    return parts.filter((part) => part && part.trim()).join("\n\n");
  }

  function setUp() {
    const box = document.querySelector("[data-ls-ai-summarise]");
    if (!box || !window.studioAI) return;
    const summary = document.querySelector('textarea[name="summary"]');
    if (summary) summary.insertAdjacentElement("afterend", box);
    const button = box.querySelector("[data-ls-ai-summarise-button]");
    const status = box.querySelector("[data-ls-ai-summarise-status]");
    button.addEventListener("click", async () => {
      const form = button.closest("form");
      button.disabled = true;
      box.setAttribute("aria-busy", "true");
      status.className = "ls-ai__status ls-ai__status--busy";
      status.dataset.lsAiStatus = "busy";
      status.setAttribute("role", "status");
      status.innerHTML = '<span class="ls-ai__spinner" aria-hidden="true"></span>';
      status.append("Summarising with AI…");
      try {
        const answer = await window.studioAI.call("summarise", {
          text: form ? tutorialText(form) : "",
        });
        if (summary) {
          summary.value = answer.summary;
          // Tell Wagtail the form changed (its unsaved-changes warning listens for input).
          summary.dispatchEvent(new Event("input", { bubbles: true }));
          summary.dispatchEvent(new Event("change", { bubbles: true }));
        }
        status.className = "ls-ai__status ls-ai__status--ok";
        status.dataset.lsAiStatus = "ok";
        status.textContent =
          "Summary filled in. Review it: it is kept when you save and live only when published.";
      } catch (error) {
        status.className = "ls-ai__status ls-ai__status--error";
        status.dataset.lsAiStatus = "error";
        status.setAttribute("role", "alert");
        status.textContent = error.message || String(error);
      } finally {
        button.disabled = false;
        box.removeAttribute("aria-busy");
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
