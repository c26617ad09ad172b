// Copy buttons: <button data-copy="text">. One delegated listener, so buttons added later work
// and including the script twice does not copy twice.
if (!window.portalCopyButtons) {
  window.portalCopyButtons = true;
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-copy]");
    if (!button || !navigator.clipboard) return;
    const label = (button.dataset.label ||= button.textContent);
    navigator.clipboard.writeText(button.dataset.copy).then(() => {
      button.textContent = "Copied";
      setTimeout(() => { button.textContent = label; }, 1500);
    });
  });
}
