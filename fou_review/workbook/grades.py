"""One criterion's grades as a real radio group: a small custom widget (anywidget, no network).

`GradeGroup(options=[...], value=..., label=...)` renders native radio buttons that share one `name`
inside an element with `role="radiogroup"`: the browser makes the group one tab stop (on the checked
grade, or the first when none is), ←/→ and ↑/↓ move and select, and the checked state is what
assistive technology reads. The group carries `data-lm-suppress-shortcuts`, so JupyterLab's own
arrow-key shortcuts (select the next cell) do not take the keys away from it. The chosen grade shows by
a frame, bold, underline and a ✓, not by colour alone; the focused grade has a thick outline.

The widget's JavaScript and CSS are plain strings below: they are stored with the widget's state in
an executed notebook (papermill), so a trusted notebook shows the saved grades before any cell runs,
with no kernel and no download. `.value` is the chosen option (a string), as ipywidgets' own
selection widgets have it; a value that is not an option is refused.
"""

from __future__ import annotations

from typing import Any

import anywidget
import traitlets

_ESM = """
function render({ model, el }) {
  const group = document.createElement("div");
  group.className = "fou-grade-group";
  group.setAttribute("role", "radiogroup");
  group.setAttribute("data-lm-suppress-shortcuts", "true");
  const name = "fou-grade-" + Math.random().toString(36).slice(2);
  const build = () => {
    group.replaceChildren();
    group.setAttribute("aria-label", model.get("label"));
    const names = model.get("option_labels");
    model.get("options").forEach((value, i) => {
      const label = document.createElement("label");
      label.className = "fou-grade";
      const input = document.createElement("input");
      input.type = "radio";
      input.name = name;
      input.value = value;
      input.dataset.value = value;
      if (names[i]) {
        input.setAttribute("aria-label", names[i]);
        label.title = names[i];
      }
      input.addEventListener("change", () => {
        if (input.checked && model.get("value") !== value) {
          model.set("value", value);
          model.save_changes();
        }
      });
      const text = document.createElement("span");
      text.textContent = value;
      label.append(input, text);
      group.append(label);
    });
    sync();
  };
  const sync = () => {
    const value = model.get("value");
    const disabled = model.get("disabled");
    for (const input of group.querySelectorAll("input")) {
      input.checked = input.value === value;
      input.disabled = disabled;
    }
    group.setAttribute("aria-disabled", disabled ? "true" : "false");
  };
  // The arrow keys belong to the group: no notebook handler above it sees them.
  group.addEventListener("keydown", (event) => {
    if (event.key.startsWith("Arrow")) event.stopPropagation();
  });
  model.on("change:value", sync);
  model.on("change:disabled", sync);
  model.on("change:options", build);
  model.on("change:option_labels", build);
  model.on("change:label", build);
  build();
  el.append(group);
  return () => {
    model.off("change:value", sync);
    model.off("change:disabled", sync);
    model.off("change:options", build);
    model.off("change:option_labels", build);
    model.off("change:label", build);
  };
}
export default { render };
"""

_CSS = """
.fou-grade-group { display: flex; flex-wrap: wrap; gap: 0.15em 0.4em; margin: 0.1em 0 0.3em; }
.fou-grade-group .fou-grade { display: inline-flex; align-items: center; gap: 0.2em; padding: 0.15em 0.45em;
  border: 1px solid #757575; border-radius: 3px; cursor: pointer; }
.fou-grade-group .fou-grade input { margin: 0; }
.fou-grade-group .fou-grade:has(input:checked) { background: #0b4f8a; color: #fff; border: 2px solid #062c4d;
  font-weight: bold; text-decoration: underline; }
.fou-grade-group .fou-grade:has(input:checked)::after { content: " \\2713"; }
.fou-grade-group .fou-grade:has(input:focus-visible) { outline: 3px solid #c55a00; outline-offset: 2px; }
.fou-grade-group[aria-disabled="true"] .fou-grade { opacity: 0.6; cursor: not-allowed; }
"""


class GradeGroup(anywidget.AnyWidget):
    """A radio group of `options` (strings); `value` is the checked one, `label` names the group."""

    _esm = _ESM
    _css = _CSS
    value = traitlets.Unicode("").tag(sync=True)
    options = traitlets.List(traitlets.Unicode()).tag(sync=True)
    option_labels = traitlets.List(traitlets.Unicode()).tag(sync=True)  # accessible names ("" = the option)
    label = traitlets.Unicode("").tag(sync=True)
    disabled = traitlets.Bool(False).tag(sync=True)

    @traitlets.validate("value")
    def _valid_value(self, proposal: dict[str, Any]) -> str:
        value = str(proposal["value"])
        if value not in self.options:
            raise traitlets.TraitError(f"{value!r} is not one of {list(self.options)!r}")
        return value

    def __repr__(self) -> str:
        """Stable text (no memory address): the group's label and value."""
        return f"GradeGroup(label={self.label!r}, value={self.value!r})"


__all__ = ["GradeGroup"]
