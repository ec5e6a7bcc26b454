/* Workspace behaviour: uploads with drag-and-drop and a progress bar (Alpine), enterprise picker, and a
   notice when a request made in the page (htmx) fails instead of nothing happening. */
document.addEventListener("alpine:init", function () {
  window.Alpine.data("uploader", function () {
    return {
      dragging: false,
      busy: false,
      progress: 0,
      error: "",
      drop: function (event) {
        this.dragging = false;
        var input = this.$refs.files;
        if (input && event.dataTransfer && event.dataTransfer.files.length) {
          input.files = event.dataTransfer.files;
        }
      },
      submit: function (event) {
        var form = event.target;
        var self = this;
        var xhr = new XMLHttpRequest();
        self.busy = true;
        self.error = "";
        self.progress = 0;
        xhr.upload.addEventListener("progress", function (e) {
          if (e.lengthComputable) { self.progress = Math.round((e.loaded / e.total) * 100); }
        });
        xhr.addEventListener("load", function () {
          var target = new URL(form.action, window.location.href);
          var landed = new URL(xhr.responseURL || form.action, window.location.href);
          if (xhr.status < 300 && landed.pathname !== target.pathname) {
            window.location.assign(landed.href);
            return;
          }
          document.open();
          document.write(xhr.responseText);
          document.close();
        });
        xhr.addEventListener("error", function () {
          self.busy = false;
          self.error = form.dataset.networkError || "Network error";
        });
        xhr.open("POST", form.action);
        xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
        xhr.send(new FormData(form));
      }
    };
  });

  window.Alpine.data("picker", function () {
    return {
      choose: function (id, label) {
        var list = document.getElementById("chosen-enterprises");
        if (!list || list.querySelector('input[value="' + id + '"]')) { return; }
        var item = document.createElement("li");
        var input = document.createElement("input");
        input.type = "hidden"; input.name = "enterprises"; input.value = id;
        var remove = document.createElement("button");
        remove.type = "button"; remove.className = "link-button"; remove.textContent = "×";
        remove.setAttribute("aria-label", (list.dataset.removeLabel || "Remove") + " " + label);
        remove.addEventListener("click", function () { item.remove(); });
        item.appendChild(input);
        item.appendChild(document.createTextNode(label + " "));
        item.appendChild(remove);
        list.appendChild(item);
      }
    };
  });
});

function showRequestError(status, requestId) {
  var notice = document.getElementById("request-error");
  if (!notice) { return; }
  var kind = status === 0 ? "network" : status >= 500 ? "server" : status === 403 ? "forbidden"
    : status === 404 ? "missing" : "other";
  notice.textContent = notice.dataset[kind].replace("{id}", requestId || "-").replace("{status}", String(status));
  notice.hidden = false;
}

document.addEventListener("htmx:beforeRequest", function () {
  var notice = document.getElementById("request-error");
  if (notice) { notice.hidden = true; }
});
document.addEventListener("htmx:responseError", function (event) {
  var xhr = event.detail.xhr;
  showRequestError(xhr.status, xhr.getResponseHeader("X-Request-ID"));
});
document.addEventListener("htmx:sendError", function () { showRequestError(0, ""); });
