// Learning Studio: the AI bar inside a Draftail rich-text editor (feature "ai").
//
// A Draftail "meta" control (Wagtail's documented control API: registerPlugin(..., "controls")),
// shown under the text of each rich-text field that lists the "ai" feature:
// - Draft with AI: the editor types what to write; the answer is inserted at the cursor.
// - Improve selection: the selected text is replaced by the AI's clearer version.
// - Suggest a code example (tutorials): a runnable Python example for the selected text (or
//   the whole block) is inserted as a code block after this text block, in the StreamField.
// The answer arrives as Draft.js content converted on the server by Wagtail's own converter, and
// goes into the editor like typed text: unsaved until the page is saved (as a draft), live only
// once a person publishes. A failure shows a message here; the editor keeps working.
(function () {
  "use strict";
  const React = window.React;
  const DraftJS = window.DraftJS;
  if (!React || !DraftJS || !window.draftail) return;
  const h = React.createElement;
  const { CharacterMetadata, EditorState, Modifier, SelectionState, convertFromRaw } = DraftJS;

  // The text of the selection, one line per block.
  function selectedText(editorState) {
    const selection = editorState.getSelection();
    if (selection.isCollapsed()) return "";
    const content = editorState.getCurrentContent();
    const blocks = content.getBlocksAsArray();
    const startKey = selection.getStartKey();
    const endKey = selection.getEndKey();
    const lines = [];
    let inside = false;
    for (const block of blocks) {
      if (block.getKey() === startKey) inside = true;
      if (!inside) continue;
      const text = block.getText();
      const from = block.getKey() === startKey ? selection.getStartOffset() : 0;
      const to = block.getKey() === endKey ? selection.getEndOffset() : text.length;
      lines.push(text.slice(from, to));
      if (block.getKey() === endKey) break;
    }
    return lines.join("\n");
  }

  // Entities (links) of the AI's content re-created in the editor's content, so their keys are
  // ones this editor knows: an unknown entity key would break the editor's rendering.
  function adoptFragment(raw, content) {
    const fragmentContent = convertFromRaw(raw);
    let target = content;
    const keys = {};
    const blocks = fragmentContent.getBlockMap().map((block) =>
      block.set(
        "characterList",
        block.getCharacterList().map((character) => {
          const key = character.getEntity();
          if (!key) return character;
          if (!(key in keys)) {
            const entity = fragmentContent.getEntity(key);
            target = target.createEntity(
              entity.getType(), entity.getMutability(), entity.getData());
            keys[key] = target.getLastCreatedEntityKey();
          }
          return CharacterMetadata.applyEntity(character, keys[key]);
        })
      )
    );
    return { content: target, fragment: blocks };
  }

  function endOf(content) {
    const last = content.getLastBlock();
    return SelectionState.createEmpty(last.getKey()).merge({
      anchorOffset: last.getLength(),
      focusOffset: last.getLength(),
    });
  }

  // Put the AI's content at `selection` (replacing what it covers). If the editor changed so
  // much while waiting that the selection is gone, add it at the end instead.
  function insertContent(getEditorState, onChange, raw, selection) {
    const editorState = getEditorState();
    const adopted = adoptFragment(raw, editorState.getCurrentContent());
    let target = selection;
    if (!target || !adopted.content.getBlockForKey(target.getStartKey()) ||
        !adopted.content.getBlockForKey(target.getEndKey())) {
      target = endOf(adopted.content);
    }
    const changed = Modifier.replaceWithFragment(adopted.content, target, adopted.fragment);
    const next = EditorState.push(editorState, changed, "insert-fragment");
    onChange(EditorState.forceSelection(next, changed.getSelectionAfter()));
    announceEdit();
  }

  // Wagtail's unsaved-changes check (w-unsaved) runs on the form's change and keyup events;
  // an insertion fires neither. Once Draftail has copied the new content into its hidden input
  // (stateSaveInterval, 250 ms), tell the form, so leaving the page warns about unsaved edits.
  function announceEdit() {
    const form = document.querySelector('form[data-controller~="w-unsaved"]');
    if (!form) return;
    setTimeout(() => form.dispatchEvent(new Event("change", { bubbles: true })), 400);
  }

  // Where a text block sits in the page's StreamField: the stream, the block's index, and the
  // nearest heading above it (the section it belongs to).
  function streamPlace(element) {
    let node = element;
    while (node && !node.rootBlock) node = node.parentElement;
    if (!node) return null;
    const stream = node.rootBlock;
    if (!stream.children || !stream.blockDef || !stream.blockDef.childBlockDefsByName ||
        !stream.blockDef.childBlockDefsByName.code) return null;
    const index = stream.children.findIndex((child) => child.element.contains(element));
    if (index < 0) return null;
    let section = "";
    for (let i = index; i >= 0; i -= 1) {
      const child = stream.children[i];
      if (child.type === "heading" && child.block && child.block.getValue) {
        section = String(child.block.getValue() || "");
        break;
      }
    }
    return { stream, index, section };
  }

  // Code examples are offered in tutorials (the AI panel marks a tutorial's editor).
  function isTutorial() {
    return Boolean(document.querySelector("[data-ls-ai-tutorial]"));
  }

  function AIOffNotice({ cfg }) {
    return h(
      "div", { className: "ls-ai ls-ai--off", "data-ls-ai": "off" },
      h("span", { className: "ls-ai__label" }, "AI drafting is off."),
      " ",
      h("details", { className: "ls-ai__how" },
        h("summary", null, "How to turn it on"),
        h("span", null, cfg ? cfg.howTo.replace(/^AI drafting is off\.\s*/, "")
          : "This screen has no AI settings."))
    );
  }

  // A class, not a function with hooks: Wagtail's bundle and window.React may be separate
  // React copies, and hooks fail across copies (React error #321) while classes do not.
  class AIControl extends React.Component {
    constructor(props) {
      super(props);
      this.state = { prompting: false, prompt: "", busy: "", message: null };
      this.selection = null;
      this.input = null;
      this.draft = this.draft.bind(this);
      this.improve = this.improve.bind(this);
      this.openPrompt = this.openPrompt.bind(this);
      this.codeExample = this.codeExample.bind(this);
      this.root = null;
    }

    componentDidUpdate(previousProps, previousState) {
      if (this.state.prompting && !previousState.prompting && this.input) this.input.focus();
    }

    async run(kind, payload, doing, done) {
      const { getEditorState, onChange } = this.props;
      this.setState({ busy: doing, message: null });
      try {
        const answer = await window.studioAI.call(kind, payload);
        insertContent(getEditorState, onChange, answer.contentstate, this.selection);
        this.setState({ busy: "", message: { kind: "ok", text: done } });
        return true;
      } catch (error) {
        this.setState({ busy: "", message: { kind: "error", text: error.message || String(error) } });
        return false;
      }
    }

    async draft() {
      const prompt = this.state.prompt;
      if (!prompt.trim()) {
        this.setState({ message: { kind: "error", text: "Say what the AI should write first." } });
        return;
      }
      const ok = await this.run(
        "draft", { prompt: prompt, title: window.studioAI.pageTitle() },
        "Drafting with AI…",
        "AI draft inserted. Review it: it is kept when you save and live only when published."
      );
      if (ok) this.setState({ prompting: false, prompt: "" });
    }

    improve() {
      const editorState = this.props.getEditorState();
      const text = selectedText(editorState);
      if (!text.trim()) {
        this.setState({ message: { kind: "error", text: "Select the text to improve first." } });
        return;
      }
      this.selection = editorState.getSelection();
      this.run("improve", { text: text }, "Improving the selection…",
        "Selection improved. Review it: it is kept when you save and live only when published.");
    }

    async codeExample() {
      const editorState = this.props.getEditorState();
      let topic = selectedText(editorState);
      if (!topic.trim()) topic = editorState.getCurrentContent().getPlainText("\n");
      if (!topic.trim()) {
        this.setState({ message: { kind: "error",
          text: "Write or select the text the example is for first." } });
        return;
      }
      const place = streamPlace(this.root);
      if (!place) {
        this.setState({ message: { kind: "error",
          text: "This text is not in the page body, so there is no place for a code block." } });
        return;
      }
      this.setState({ busy: "Writing a code example…", message: null });
      try {
        const answer = await window.studioAI.call("codeExample", {
          topic: topic, section: place.section, title: window.studioAI.pageTitle(),
        });
        // Blocks may have moved while the AI worked: find this one again.
        const now = streamPlace(this.root) || place;
        now.stream.insert(
          { type: "code", value: { language: answer.language, code: answer.code } },
          now.index + 1, { animate: true });
        announceEdit();
        this.setState({ busy: "", message: { kind: "ok", text: "Code example inserted below " +
          "this text. Review it: it is kept when you save and live only when published." } });
      } catch (error) {
        this.setState({ busy: "", message: { kind: "error", text: error.message || String(error) } });
      }
    }

    openPrompt() {
      this.selection = this.props.getEditorState().getSelection();
      this.setState({ prompting: true, message: null });
    }

    render() {
      const cfg = window.studioAI && window.studioAI.config();
      if (!cfg || !cfg.on) return h(AIOffNotice, { cfg });
      const { prompting, prompt, busy, message } = this.state;
      // Keep the editor's selection while pressing our buttons.
      const keepFocus = (event) => event.preventDefault();
      const disabled = Boolean(busy);
      const children = [h("span", { key: "label", className: "ls-ai__label" }, "AI")];
      if (prompting) {
        children.push(
          h("input", {
            key: "prompt", ref: (element) => { this.input = element; }, type: "text",
            className: "ls-ai__prompt", "aria-label": "What should the AI write here?",
            placeholder: "What should the AI write here?", value: prompt, disabled: disabled,
            maxLength: 2000,
            onChange: (event) => this.setState({ prompt: event.target.value }),
            onKeyDown: (event) => {
              // Enter would submit the page form.
              if (event.key === "Enter") {
                event.preventDefault();
                if (!disabled) this.draft();
              }
              if (event.key === "Escape") {
                event.preventDefault();
                this.setState({ prompting: false });
              }
            },
          }),
          h("button", {
            key: "go", type: "button", className: "button button-small", disabled: disabled,
            "data-ls-ai-action": "draft-go", onClick: this.draft,
          }, "Draft"),
          h("button", {
            key: "cancel", type: "button", className: "button button-small button-secondary",
            disabled: disabled, onClick: () => this.setState({ prompting: false }),
          }, "Cancel")
        );
      } else {
        children.push(
          h("button", {
            key: "draft", type: "button", className: "button button-small button-secondary",
            disabled: disabled, onMouseDown: keepFocus, onClick: this.openPrompt,
            "data-ls-ai-action": "draft",
          }, "Draft with AI…"),
          h("button", {
            key: "improve", type: "button", className: "button button-small button-secondary",
            disabled: disabled, onMouseDown: keepFocus, onClick: this.improve,
            "data-ls-ai-action": "improve",
          }, "Improve selection")
        );
        if (isTutorial() && cfg.urls && cfg.urls.codeExample) {
          children.push(h("button", {
            key: "code", type: "button", className: "button button-small button-secondary",
            disabled: disabled, onMouseDown: keepFocus, onClick: this.codeExample,
            "data-ls-ai-action": "code-example",
            title: "A runnable Python example for the selected text (or this whole block), " +
              "inserted as a code block below it",
          }, "Suggest a code example"));
        }
      }
      if (busy) {
        children.push(h("span", {
          key: "busy", className: "ls-ai__status ls-ai__status--busy", role: "status",
          "aria-live": "polite", "data-ls-ai-status": "busy",
        }, h("span", { className: "ls-ai__spinner", "aria-hidden": "true" }), busy));
      } else if (message) {
        children.push(h("span", {
          key: "message",
          className: `ls-ai__status ls-ai__status--${message.kind}`,
          role: message.kind === "error" ? "alert" : "status",
          "data-ls-ai-status": message.kind,
        }, message.text, " ", h("button", {
          type: "button", className: "ls-ai__dismiss", "aria-label": "Dismiss",
          onClick: () => this.setState({ message: null }),
        }, "×")));
      }
      return h("div", {
        className: "ls-ai", "data-ls-ai": "on", "aria-busy": disabled,
        ref: (element) => { this.root = element; },
      }, children);
    }
  }

  window.draftail.registerPlugin({ type: "ai", meta: AIControl }, "controls");
})();
