// Learning Studio: the AI alt text box under an image's description field (image_forms.py).
// "Suggest alt text with AI" asks the site (which sends the image, downscaled, to the vision
// model) and shows the suggestion; "Use this suggestion" puts it into the description field,
// unsaved: the image's alt text changes only when the editor saves the form. "Dismiss" drops
// it. Loaded on every admin page; works by event delegation, so it also serves the forms the
// multiple uploader adds after each upload.
(function () {
  "use strict";
  if (window.studioAltText) return;
  window.studioAltText = true;

  function csrfToken() {
    if (window.wagtailConfig && window.wagtailConfig.CSRF_TOKEN) {
      return window.wagtailConfig.CSRF_TOKEN;
    }
    const input = document.querySelector('input[name="csrfmiddlewaretoken"]');
    return input ? input.value : "";
  }

  async function post(url) {
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          Accept: "application/json",
          "X-CSRFToken": csrfToken(),
          "X-Requested-With": "XMLHttpRequest",
        },
      });
    } catch (error) {
      throw new Error("The site cannot be reached. Nothing was changed; check your connection.");
    }
    let data = null;
    try {
      data = await response.json();
    } catch (error) {
      data = null;
    }
    if (response.ok && data && !data.error) return data;
    if (data && data.error) throw new Error(data.error);
    if (response.status === 403) {
      throw new Error("You may not use AI on this image, or your session has expired " +
        "(sign in again in another tab, then retry). Nothing was changed.");
    }
    throw new Error(`The AI request failed (HTTP ${response.status}). Nothing was changed.`);
  }

  function parts(element) {
    const field = element.closest("[data-ls-alt-text-field]");
    return {
      input: field.querySelector("input"),
      box: field.querySelector("[data-ls-alt-text-suggestion]"),
      value: field.querySelector("[data-ls-alt-text-value]"),
      dismiss: field.querySelector("[data-ls-alt-text-dismiss]"),
      suggest: field.querySelector("[data-ls-alt-text-suggest]"),
      status: field.querySelector("[data-ls-alt-text-status]"),
    };
  }

  function say(status, kind, text) {
    status.className = `ls-alt-text__status ls-alt-text__status--${kind}`;
    status.dataset.lsAltTextStatus = kind;
    status.setAttribute("role", kind === "error" ? "alert" : "status");
    status.textContent = text;
    if (kind === "busy") {
      const spinner = document.createElement("span");
      spinner.className = "ls-ai__spinner";
      spinner.setAttribute("aria-hidden", "true");
      status.prepend(spinner);
    }
  }

  async function suggest(button) {
    const p = parts(button);
    button.disabled = true;
    say(p.status, "busy", "Asking the AI for alt text…");
    try {
      const answer = await post(button.dataset.url);
      p.value.textContent = answer.suggestion;
      p.dismiss.dataset.url = answer.dismiss_url;
      p.box.hidden = false;
      say(p.status, "ok", "Suggestion ready. Review it: it becomes the alt text only if you " +
        "use it and save.");
    } catch (error) {
      say(p.status, "error", error.message || String(error));
    } finally {
      button.disabled = false;
    }
  }

  function use(button) {
    const p = parts(button);
    p.input.value = p.value.textContent;
    // Wagtail's unsaved-changes warning listens for input and change.
    p.input.dispatchEvent(new Event("input", { bubbles: true }));
    p.input.dispatchEvent(new Event("change", { bubbles: true }));
    p.input.focus();
    say(p.status, "ok", "Suggestion put into the alt text field. Save to keep it.");
  }

  async function dismiss(button) {
    const p = parts(button);
    if (!button.dataset.url) {
      p.box.hidden = true;
      return;
    }
    button.disabled = true;
    try {
      await post(button.dataset.url);
      p.box.hidden = true;
      say(p.status, "ok", "Suggestion dismissed.");
    } catch (error) {
      say(p.status, "error", error.message || String(error));
    } finally {
      button.disabled = false;
    }
  }

  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    const button = target.closest(
      "[data-ls-alt-text-suggest], [data-ls-alt-text-use], [data-ls-alt-text-dismiss]");
    if (!button || !button.closest("[data-ls-alt-text-field]")) return;
    event.preventDefault();
    if (button.hasAttribute("data-ls-alt-text-suggest")) suggest(button);
    else if (button.hasAttribute("data-ls-alt-text-use")) use(button);
    else dismiss(button);
  });
})();
