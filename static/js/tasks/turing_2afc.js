// Turing test, two alternatives: one button per soundtrack (its letter is also its key).
"use strict";
(function () {
  const registry = (window.vis2sound = window.vis2sound || { renderers: {} });
  function render(trial, group, ui) {
    trial.stimuli.forEach((stimulus, n) =>
      group.append(ui.answerButton(stimulus.label, stimulus.label.toLowerCase(), () => ui.submit({ choice: n })))
    );
    return { keys: true };
  }
  document.currentScript.dataset.taskTypes.split(" ").forEach((type) => (registry.renderers[type] = render));
})();
