// The report flow without JavaScript posts every screen; with it, this adds: address
// suggestions as the resident types, "use my location", one click on "Send report", and
// photo uploads with a progress bar. Page strings come from data-msg-* attributes (the
// page's language); place labels are the town's text and are only ever set as text.
(function () {
  "use strict";

  function fill(template, key, value) { return template.replace("{" + key + "}", value); }

  function getJSON(url, done, failed) {
    var xhr = new XMLHttpRequest();
    xhr.open("GET", url);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.onload = function () {
      if (xhr.status === 200) {
        try { done(JSON.parse(xhr.responseText)); } catch (e) { failed(); }
      } else { failed(xhr.status); }
    };
    xhr.onerror = function () { failed(0); };
    xhr.send();
  }

  // --- where is the problem ---------------------------------------------------------------
  function placeForm(form) {
    var box = form.querySelector("[data-places-url]");
    var list = form.querySelector("#place-suggestions");
    var status = form.querySelector("#place-status");
    var address = form.querySelector("[data-place-address]");
    var lat = form.querySelector("[data-place-lat]");
    var long = form.querySelector("[data-place-long]");
    var locate = form.querySelector("[data-locate]");
    var msg = locate.dataset;
    var timer = null, asked = 0;

    function choose(label, placeLat, placeLong) {
      box.value = label; address.value = label;
      lat.value = String(placeLat); long.value = String(placeLong);
      list.hidden = true; list.textContent = "";
      status.textContent = fill(msg.msgChosen, "place", label);
    }
    function forget() { address.value = ""; lat.value = ""; long.value = ""; }

    function show(places) {
      list.textContent = "";
      places.forEach(function (place) {
        var item = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "usa-button usa-button--unstyled town-place-choice";
        button.textContent = place.label;
        button.addEventListener("click", function () {
          choose(place.label, place.lat, place.long);
          box.focus();
        });
        item.appendChild(button);
        list.appendChild(item);
      });
      list.hidden = places.length === 0;
      status.textContent = places.length ? fill(msg.msgCount, "count", String(places.length))
        : msg.msgNothing;
    }

    function lookUp() {
      clearTimeout(timer);
      var typed = box.value.trim();
      if (typed.length < 2) { list.hidden = true; status.textContent = ""; return; }
      timer = setTimeout(function () {
        var mine = ++asked;
        getJSON(box.dataset.placesUrl + "?q=" + encodeURIComponent(typed), function (answer) {
          if (mine === asked) { show(answer.places || []); }
        }, function () { /* the form still works: the next screen lists the places */ });
      }, 250);
    }
    box.addEventListener("input", function () { forget(); lookUp(); });
    // Text typed before this script ran (a slow phone, or the browser restoring the
    // field on Back) is looked up too.
    if (box.value.trim()) { lookUp(); }
    box.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" && !list.hidden) {
        var first = list.querySelector("button");
        if (first) { event.preventDefault(); first.focus(); }
      }
    });

    if (navigator.geolocation) {
      locate.hidden = false;
      locate.querySelector("[data-locate-button]").addEventListener("click", function () {
        status.textContent = msg.msgLocating;
        navigator.geolocation.getCurrentPosition(function (position) {
          var here = position.coords;
          var url = locate.dataset.nearestUrl + "?lat=" + here.latitude + "&long=" + here.longitude;
          getJSON(url, function (answer) {
            var label = answer.place.label;
            list.textContent = "";
            var item = document.createElement("li");
            var button = document.createElement("button");
            button.type = "button";
            button.className = "usa-button usa-button--outline";
            button.textContent = msg.msgUse;
            // The phone's own point is kept: it is where the resident stands, the
            // address names it for the crew.
            button.addEventListener("click", function () {
              choose(label, here.latitude, here.longitude);
              box.focus();
            });
            item.appendChild(button);
            list.appendChild(item);
            list.hidden = false;
            status.textContent = fill(msg.msgFound, "place", label);
            button.focus();
          }, function () { status.textContent = msg.msgNone; });
        }, function () { status.textContent = msg.msgDenied; },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
      });
    }
  }

  // --- one click on "Send report" --------------------------------------------------------
  function sendOnce(form) {
    form.addEventListener("submit", function (event) {
      var button = event.submitter;
      if (!button || !button.hasAttribute("data-send-button")) { return; }
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
      button.setAttribute("aria-disabled", "true");
    });
  }

  // --- photos with a progress bar --------------------------------------------------------
  // Straight to the town's bucket with a presigned form (a phone's 5-8 MB photo is more
  // than the app's request can carry); through the app, as without script, when that
  // fails (a network that blocks the bucket, an expired form).
  var SIGNATURES = [
    { type: "image/jpeg", test: function (b) { return b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff; } },
    { type: "image/png", test: function (b) { return b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47; } },
    { type: "image/webp", test: function (b) { return b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 &&
                                                      b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50; } },
    { type: "image/heic", test: function (b) { return b[4] === 0x66 && b[5] === 0x74 && b[6] === 0x79 && b[7] === 0x70; } }
  ];

  function sniff(head) {
    for (var i = 0; i < SIGNATURES.length; i++) {
      if (SIGNATURES[i].test(head)) { return SIGNATURES[i].type; }
    }
    return null;
  }

  function photoForm(form) {
    var input = form.querySelector("input[type=file]");
    var error = form.querySelector("[data-photo-error]");
    var progress = form.querySelector("[data-photo-progress]");
    var bar = progress.querySelector("progress");
    var msg = form.dataset;
    var busy = false;

    function complain(message) {
      busy = false;
      progress.hidden = true;
      error.textContent = message; error.hidden = false;
      input.classList.add("usa-input--error");
      input.focus();
    }

    function sending(xhr) {
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) { bar.value = Math.round(100 * e.loaded / e.total); }
      });
      bar.value = 0;
      progress.hidden = false;
    }

    // As without script: the app's answer is the page, saying "Photo received" or what
    // is wrong next to the field.
    function throughApp(file, refused) {
      if (file.size > Number(msg.throughAppBytes)) {
        complain(refused === 409 ? msg.msgLimit : msg.msgTooBigHere);
        return;
      }
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.responseType = "document";
      sending(xhr);
      xhr.onload = function () {
        if (xhr.status === 200 && xhr.responseURL) {
          window.location.assign(xhr.responseURL);
          return;
        }
        var said = xhr.response && xhr.response.querySelector("[data-photo-error]");
        complain(said && said.textContent.trim() ? said.textContent.trim() : msg.msgFailed);
      };
      xhr.onerror = function () { complain(msg.msgFailed); };
      xhr.send(new FormData(form));
    }

    function toBucket(upload, file) {
      var body = new FormData();
      // S3 reads the policy's fields first and the file last.
      Object.keys(upload.fields).forEach(function (name) {
        body.append(name, upload.fields[name]);
      });
      body.append("file", file);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", upload.url);
      sending(xhr);
      xhr.onload = function () {
        if (xhr.status >= 200 && xhr.status < 300) {
          window.location.assign(msg.sentUrl);  // the page says "Photo received"
          return;
        }
        throughApp(file, 0);
      };
      xhr.onerror = function () { throughApp(file, 0); };
      xhr.send(body);
    }

    function direct(file, type) {
      var token = form.querySelector("input[name=csrf_token]").value;
      var xhr = new XMLHttpRequest();
      xhr.open("POST", msg.uploadFormUrl);
      xhr.setRequestHeader("Content-Type", "application/x-www-form-urlencoded");
      xhr.setRequestHeader("Accept", "application/json");
      xhr.onload = function () {
        var upload = null;
        if (xhr.status === 200) {
          try { upload = JSON.parse(xhr.responseText); } catch (e) { upload = null; }
        }
        if (upload && upload.url && upload.fields) {
          toBucket(upload, file);
        } else {
          throughApp(file, xhr.status);
        }
      };
      xhr.onerror = function () { throughApp(file, 0); };
      xhr.send("csrf_token=" + encodeURIComponent(token) +
               "&content_type=" + encodeURIComponent(type));
    }

    form.addEventListener("submit", function (event) {
      var file = input.files && input.files[0];
      if (!file || !window.FormData || !file.slice) { return; }  // the plain post answers
      event.preventDefault();
      if (busy) { return; }
      var reader = new FileReader();
      reader.onload = function () {
        var type = sniff(new Uint8Array(reader.result));
        if (!type) { complain(msg.msgNotImage); return; }
        if (file.size > Number(msg.maxBytes)) { complain(msg.msgTooBig); return; }
        busy = true;
        error.hidden = true;
        input.classList.remove("usa-input--error");
        if (msg.uploadFormUrl) { direct(file, type); } else { throughApp(file, 0); }
      };
      reader.readAsArrayBuffer(file.slice(0, 16));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var place = document.querySelector("[data-place-form]");
    if (place) { placeForm(place); }
    var review = document.querySelector("[data-send-once]");
    if (review) { sendOnce(review); }
    var photos = document.querySelector("[data-photo-form]");
    if (photos) { photoForm(photos); }
  });
})();
