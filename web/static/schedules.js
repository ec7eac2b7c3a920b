// lambdabox Schedules page: shows the next fire times of the expression being typed.
// The page works without it (the server checks the expression when the form is sent).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const expr = document.getElementById("sched-expression");
  const tz = document.getElementById("sched-timezone");
  const out = document.getElementById("sched-preview");
  if (!expr || !out) return;
  let timer = null;
  let seq = 0;
  const kind = () => {
    const k = document.querySelector("input[name=kind]:checked");
    return k ? k.value : "rule";
  };
  const update = () => {
    const text = expr.value.trim();
    if (!text) return;
    const mine = ++seq;
    const q = new URLSearchParams({ expression: text, timezone: tz ? tz.value.trim() : "", kind: kind() });
    fetch("/ui/schedules/preview?" + q.toString(), { credentials: "same-origin" })
      .then((r) => r.json())
      .then((j) => {
        if (mine !== seq) return;
        out.textContent = "";
        if (j.ok) {
          out.classList.remove("field-error");
          out.append("Next fire times: ");
          const list = document.createElement("ol");
          list.className = "next-fires";
          j.times.forEach((t) => {
            const li = document.createElement("li");
            li.textContent = t;
            list.append(li);
          });
          out.append(list);
        } else {
          out.classList.add("field-error");
          out.textContent = "Not valid: " + j.error;
        }
      })
      .catch(() => {});
  };
  const later = () => {
    clearTimeout(timer);
    timer = setTimeout(update, 200);
  };
  expr.addEventListener("input", later);
  if (tz) tz.addEventListener("input", later);
  document.querySelectorAll("input[name=kind]").forEach((r) => r.addEventListener("change", later));
  update();
});
