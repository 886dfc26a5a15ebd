// Ranking: a rank (1 = most realistic) per soundtrack; submitted once every rank is given once.
"use strict";
(function () {
  const registry = (window.vis2sound = window.vis2sound || { renderers: {} });

  function render(trial, group, ui) {
    group.classList.add("ranking");
    const count = trial.stimuli.length;
    const selects = trial.stimuli.map((stimulus, n) => {
      const label = document.createElement("label");
      label.textContent = `Rank of ${stimulus.label} `;
      const select = document.createElement("select");
      select.dataset.position = String(n);
      select.setAttribute("aria-label", `Rank of soundtrack ${stimulus.label} (1 is the most realistic)`);
      select.append(new Option("—", ""));
      for (let rank = 1; rank <= count; rank++) select.append(new Option(String(rank), String(rank)));
      label.appendChild(select);
      group.appendChild(label);
      return select;
    });
    const button = document.createElement("button");
    button.type = "button";
    button.id = "submit-ranking";
    button.textContent = "Submit ranking";
    group.appendChild(button);

    function order() {
      // Positions, best first; null until every soundtrack has a different rank.
      const ranks = selects.map((select) => Number(select.value));
      if (ranks.some((r) => !r) || new Set(ranks).size !== ranks.length) return null;
      return selects
        .map((select, n) => [ranks[n], Number(select.dataset.position)])
        .sort((a, b) => a[0] - b[0])
        .map((pair) => pair[1]);
    }
    function update() {
      button.disabled = ui.locked() || order() === null;
    }
    selects.forEach((select) => select.addEventListener("change", update));
    button.addEventListener("click", () => {
      const ranking = order();
      if (ranking) ui.submit({ ranking });
    });
    return { keys: false, onUnlock: update };
  }

  document.currentScript.dataset.taskTypes.split(" ").forEach((type) => (registry.renderers[type] = render));
})();
