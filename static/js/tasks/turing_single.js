// Turing test, single stimulus: real (R) or generated (G).
"use strict";
(function () {
  const registry = (window.vis2sound = window.vis2sound || { renderers: {} });
  function render(trial, group, ui) {
    group.append(
      ui.answerButton("Real", "r", () => ui.submit({ judged_real: true })),
      ui.answerButton("Generated", "g", () => ui.submit({ judged_real: false }))
    );
    return { keys: true };
  }
  document.currentScript.dataset.taskTypes.split(" ").forEach((type) => (registry.renderers[type] = render));
})();
