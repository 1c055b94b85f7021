// Loads each report table into its section once the cards and charts are on screen.
document.addEventListener("DOMContentLoaded", () => {
  for (const section of document.querySelectorAll(".report-table[data-src]")) {
    fetch(section.dataset.src, { credentials: "same-origin" })
      .then((response) => {
        if (!response.ok) throw new Error(response.status);
        return response.text();
      })
      .then((html) => {
        section.innerHTML = html;
        section.setAttribute("aria-busy", "false");
      })
      .catch(() => {
        const note = section.querySelector(".table-loading");
        if (note) note.textContent = section.dataset.error || "—";
        section.setAttribute("aria-busy", "false");
      });
  }
});
