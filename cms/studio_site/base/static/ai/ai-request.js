// Learning Studio: how the page editor's AI controls talk to the site (editor_api.py).
// Shared by the Draftail AI bar (draftail-ai.js) and "Summarise this tutorial"
// (editor-summarise.js); loaded by both, so it defines itself once.
(function () {
  "use strict";
  if (window.studioAI) return;

  let cachedConfig;

  // Written into every page editor by the insert_editor_js hook (wagtail_hooks.py).
  function config() {
    if (cachedConfig === undefined) {
      const element = document.getElementById("ls-ai-config");
      try {
        cachedConfig = element ? JSON.parse(element.textContent) : null;
      } catch (error) {
        cachedConfig = null;
      }
    }
    return cachedConfig;
  }

  // Which page this editor is for: the server checks the editor may edit it (or add under
  // its parent, for a page not saved yet).
  function pageContext() {
    const path = window.location.pathname;
    let match = path.match(/\/pages\/(\d+)\/edit\//);
    if (match) return { page_id: Number(match[1]) };
    match = path.match(/\/pages\/add\/[^/]+\/[^/]+\/(\d+)\//);
    if (match) return { parent_id: Number(match[1]) };
    return {};
  }

  function csrfToken() {
    if (window.wagtailConfig && window.wagtailConfig.CSRF_TOKEN) {
      return window.wagtailConfig.CSRF_TOKEN;
    }
    const input = document.querySelector('input[name="csrfmiddlewaretoken"]');
    return input ? input.value : "";
  }

  function pageTitle() {
    const input = document.querySelector('input[name="title"]');
    return input ? input.value : "";
  }

  // POST JSON to one of the AI endpoints; resolves with the answer, or rejects with an Error
  // whose message is meant for the editor (the server's own message where there is one).
  async function call(kind, payload) {
    const cfg = config();
    if (!cfg) throw new Error("The AI controls are not set up on this screen (no AI settings).");
    if (!cfg.on) throw new Error(cfg.howTo);
    // The server gives up after its own timeout; wait a little longer so its clearer message wins.
    const waitMs = ((cfg.timeoutSeconds || 20) + 10) * 1000;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), waitMs);
    let response;
    try {
      response = await fetch(cfg.urls[kind], {
        method: "POST",
        credentials: "same-origin",
        signal: controller.signal,
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": csrfToken(),
          "X-Requested-With": "XMLHttpRequest",
        },
        body: JSON.stringify(Object.assign(pageContext(), payload)),
      });
    } catch (error) {
      if (error.name === "AbortError") {
        throw new Error("The AI did not answer in time. Nothing was changed; try again later.");
      }
      throw new Error("The site cannot be reached. Nothing was changed; check your connection.");
    } finally {
      clearTimeout(timer);
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
      throw new Error(
        "You may not use AI on this page, or your session has expired " +
          "(sign in again in another tab, then retry). Nothing was changed."
      );
    }
    throw new Error(`The AI request failed (HTTP ${response.status}). Nothing was changed.`);
  }

  window.studioAI = { config, pageContext, pageTitle, call };
})();
