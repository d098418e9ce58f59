// tokenry Admin Center: small progressive enhancements. Every page works without them.
"use strict";

(function () {
  // A link with data-confirm asks first in a dialog, then POSTs to its own address with the
  // page's CSRF token. Without this script the link opens a confirmation page instead.
  const confirmDialog = document.getElementById("confirm-dialog");
  let opener = null;

  function openDialog(dialog, from) {
    opener = from || document.activeElement;
    dialog.showModal();
  }

  document.querySelectorAll("dialog").forEach(function (dialog) {
    dialog.addEventListener("close", function () {
      if (dialog.dataset.removeOnClose !== undefined) {
        // the one-time secret leaves the page and the address bar
        dialog.remove();
        if (dialog.dataset.replaceUrl) history.replaceState(null, "", dialog.dataset.replaceUrl);
      }
      if (opener && document.body.contains(opener)) opener.focus();
      opener = null;
    });
  });

  document.addEventListener("click", function (event) {
    const link = event.target.closest("a[data-confirm]");
    if (link && confirmDialog) {
      event.preventDefault();
      confirmDialog.querySelector("[data-confirm-text]").textContent = link.dataset.confirm;
      const form = confirmDialog.querySelector("form");
      form.action = link.getAttribute("href");
      const button = form.querySelector("button[type=submit]");
      button.textContent = link.dataset.confirmButton || "Confirm";
      button.className = link.dataset.confirmDanger !== undefined ? "danger" : "primary";
      closeMenus();
      openDialog(confirmDialog, link.closest("details") ? link.closest("details").querySelector("summary") : link);
      return;
    }
    const opens = event.target.closest("[data-open-dialog]");
    if (opens) {
      const dialog = document.getElementById(opens.dataset.openDialog);
      if (dialog) {
        event.preventDefault();
        openDialog(dialog, opens);
        const first = dialog.querySelector("input, select, textarea");
        if (first) first.focus();
      }
      return;
    }
    const closes = event.target.closest("[data-close-dialog]");
    if (closes) {
      event.preventDefault();
      closes.closest("dialog").close();
      return;
    }
    const copy = event.target.closest("[data-copy]");
    if (copy) {
      const source = document.getElementById(copy.dataset.copy);
      const done = function () {
        copy.textContent = "Copied";
        const status = document.getElementById(copy.dataset.copy + "-status");
        if (status) status.textContent = "Copied to the clipboard.";
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(source.textContent.trim()).then(done, function () {
          window.getSelection().selectAllChildren(source);
        });
      } else {
        window.getSelection().selectAllChildren(source);
        document.execCommand("copy");
        done();
      }
      return;
    }
    // a click outside an open options menu closes it
    if (!event.target.closest("details.menu")) closeMenus();
  });

  function closeMenus(except) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (menu !== except) menu.removeAttribute("open");
    });
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    const menu = document.activeElement && document.activeElement.closest("details.menu[open]");
    if (menu) {
      menu.removeAttribute("open");
      menu.querySelector("summary").focus();
    }
  });

  document.querySelectorAll("details.menu").forEach(function (menu) {
    menu.addEventListener("toggle", function () {
      if (menu.open) {
        closeMenus(menu);
        const first = menu.querySelector("li a, li button");
        if (first) first.focus();
      }
    });
  });

  // a dialog the server rendered open (the new token's one-time secret)
  document.querySelectorAll("dialog[data-show-on-load]").forEach(function (dialog) {
    dialog.removeAttribute("open");
    openDialog(dialog, document.querySelector("[data-open-dialog='add-token']"));
  });

  // times: "3 minutes ago" is rendered by the server; the exact time is in the title
})();
