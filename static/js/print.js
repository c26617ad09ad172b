// The "Print" button on a printable page; the browser's own print command works as well.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
