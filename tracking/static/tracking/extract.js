// Unticking a figure greys its mark in the text and updates the count; the server decides on saving.
document.addEventListener("DOMContentLoaded", () => {
  const kept = document.getElementById("tt-kept");
  const boxes = document.querySelectorAll("#tt-review input[type=checkbox][data-fig]");
  boxes.forEach((box) => box.addEventListener("change", () => {
    const mark = document.getElementById("mark-" + box.dataset.fig);
    if (mark) mark.classList.toggle("tt-off", !box.checked);
    box.closest("tr").classList.toggle("tt-off", !box.checked);
    kept.textContent = [...boxes].filter((b) => b.checked).length;
  }));
  document.querySelectorAll(".tt-fig").forEach((mark) => mark.addEventListener("click", () => {
    const row = document.getElementById("fig-" + mark.dataset.fig);
    if (row) row.scrollIntoView({block: "center"});
  }));
});
