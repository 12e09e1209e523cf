// Progressive enhancement only: every page works without this file.
document.addEventListener("click", function (e) {
  if (e.target.classList && e.target.classList.contains("print-button")) { window.print(); }
});
