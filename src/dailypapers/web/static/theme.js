/* Applies the reader's light/dark choice before the first paint (loaded in <head>, no defer).
 * Without a stored choice the page follows prefers-color-scheme through CSS alone. */
(function () {
  try {
    var theme = window.localStorage.getItem("dp-theme");
    if (theme === "light" || theme === "dark") document.documentElement.setAttribute("data-theme", theme);
  } catch (e) { /* storage refused: follow the system */ }
})();
