// "Select all on this page" for tables with a row checkbox named "selected". Without
// JavaScript each row can still be ticked one by one.
document.addEventListener("change", (event) => {
  const master = event.target.closest("th input[type=checkbox]");
  if (!master) return;
  const table = master.closest("table");
  table.querySelectorAll("td input[type=checkbox][name=selected]").forEach((box) => {
    box.checked = master.checked;
  });
});
