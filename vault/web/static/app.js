// Custos web application: the few places that need script (uploads with
// progress, the reviewer-welfare viewer). Pages work for reading without
// it. What the viewer shows is written nowhere but to a Blob in memory,
// released when the view is hidden or the page left; anything else is a
// download, which the vault records as a copy.
'use strict';

(function () {
  // msg reads a translated message from the page's <template id="msgs">
  // and puts in its %s / %d arguments in order.
  function msg(k) {
    var args = Array.prototype.slice.call(arguments, 1);
    var t = document.getElementById('msgs');
    var el = t && t.content.querySelector('[data-k="' + k + '"]');
    var s = el ? el.textContent : k;
    return s.replace(/%[sd]/g, function () { return args.length ? String(args.shift()) : ''; });
  }

  // isolated is a file name as one bidirectional isolate in plain text
  // (U+2068 FIRST STRONG ISOLATE ... U+2069 POP DIRECTIONAL ISOLATE), as
  // the pages' <bdi> are: names in Hebrew or Arabic listed one after
  // another do not run together or change places.
  function isolated(s) { return '\u2068' + s + '\u2069'; }

  function human(n) {
    var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : String(Math.round(n))) + ' ' + u[i];
  }

  // ---- Uploads -------------------------------------------------------

  // parseSums reads a sha256sum list: "HEX  NAME" or "HEX *NAME" per
  // line. It returns {map: name -> hex, bad: [line numbers]}.
  // The largest file the page hashes itself before sending it, to send
  // nothing the case holds already; a larger one is sent, and the vault
  // finds the copy (and keeps what was sent encrypted until its
  // retention ends).
  var precheckMax = 256 * 1024 * 1024;

  // sha256hex is the SHA-256 of a file, in hex (WebCrypto).
  function sha256hex(file) {
    return file.arrayBuffer().then(function (b) { return crypto.subtle.digest('SHA-256', b); }).then(function (d) {
      return Array.prototype.map.call(new Uint8Array(d), function (x) { return ('0' + x.toString(16)).slice(-2); }).join('');
    });
  }

  function parseSums(text) {
    var map = {}, bad = [];
    text.split(/\r?\n/).forEach(function (line, i) {
      if (!line.trim()) return;
      var m = /^\\?([0-9a-fA-F]{64}) [ *](.+)$/.exec(line);
      if (!m) { bad.push(i + 1); return; }
      var name = m[2].replace(/^\.\//, '');
      map[name] = m[1].toLowerCase();
    });
    return { map: map, bad: bad };
  }

  function setupUpload(form) {
    var files = document.getElementById('files');
    var folder = document.getElementById('folder');
    var cancel = document.getElementById('cancel');
    var section = document.getElementById('progress-section');
    var overall = document.getElementById('overall');
    var overallText = document.getElementById('overall-text');
    var list = document.getElementById('uploads');
    var current = null, stopped = false;

    cancel.addEventListener('click', function () {
      stopped = true;
      if (current) current.abort();
    });

    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var chosen = [];
      Array.prototype.forEach.call(files.files, function (f) { chosen.push({ file: f, name: f.name }); });
      Array.prototype.forEach.call(folder.files, function (f) { chosen.push({ file: f, name: f.webkitRelativePath || f.name }); });
      if (!chosen.length) { files.focus(); return; }
      var sums = parseSums(document.getElementById('sums').value);
      overallText.className = '';
      if (sums.bad.length) {
        overallText.textContent = msg('badsum', sums.bad[0]);
        overallText.className = 'error';
        section.classList.remove('hidden');
        return;
      }
      // A list made inside the chosen folder names its files without the
      // folder's own name; one made above it, with it.
      var listed = function (c) {
        var names = [c.name, c.name.replace(/^[^/]*\//, ''), c.file.name];
        for (var i = 0; i < names.length; i++) { if (sums.map[names[i]]) return names[i]; }
        return '';
      };
      var used = {};
      chosen.forEach(function (c) { var n = listed(c); if (n) used[n] = true; });
      var unlisted = Object.keys(sums.map).filter(function (n) { return !used[n]; });
      var missing = Object.keys(sums.map).length ? chosen.filter(function (c) { return !listed(c); }) : [];
      if (missing.length) {
        // A file without its acquisition hash would be stored unchecked:
        // nothing is sent until the list and the files agree.
        overallText.textContent = msg('nohash', missing.slice(0, 10).map(function (c) { return isolated(c.name); }).join(', ') +
          (missing.length > 10 ? ' …' : ''));
        overallText.className = 'error';
        section.classList.remove('hidden');
        return;
      }
      var total = chosen.reduce(function (a, c) { return a + c.file.size; }, 0);
      var done = 0, skipped = 0, stored = 0, failed = 0, already = 0;
      // What the run found and did not store, for the depositor's
      // statement in the custody log (deposit.skipped), as custos deposit
      // records it: content left behind (a file the browser could not
      // read, one the vault refused for its acquisition hash, one the
      // pasted list names that was not chosen); failedNames names every
      // failure in the summary.
      var notDeposited = [], failedNames = [];
      list.textContent = '';
      section.classList.remove('hidden');
      if (unlisted.length) {
        var w = document.createElement('li');
        w.className = 'failed';
        w.textContent = msg('unlisted', unlisted.map(isolated).join(', '));
        list.appendChild(w);
        unlisted.forEach(function (n) {
          notDeposited.push({ path: n, reason: 'listed in the acquisition list pasted on the upload page, but not among the files chosen', left_behind: true });
        });
      }
      var rows = chosen.map(function (c) {
        var li = document.createElement('li');
        var label = document.createElement('span');
        label.textContent = c.name + ' (' + human(c.file.size) + ') ';
        var bar = document.createElement('progress');
        bar.max = c.file.size || 1; bar.value = 0;
        bar.setAttribute('aria-label', c.name);
        var state = document.createElement('span');
        state.textContent = msg('waiting');
        li.appendChild(label); li.appendChild(bar); li.appendChild(state);
        list.appendChild(li);
        return { li: li, bar: bar, state: state };
      });
      document.getElementById('start').disabled = true;
      cancel.disabled = false;
      stopped = false;
      overall.max = total || 1;

      function next(i) {
        if (i >= chosen.length || stopped) {
          var secs = (performance.now() - began) / 1000;
          form.dataset.elapsedMs = String(Math.round(secs * 1000));
          // The rate only when something was sent: files already held
          // send nothing.
          overallText.textContent = msg('summary', stored, chosen.length, already, failed + (chosen.length - i)) +
            (done - skipped > 0 ? ' ' + msg('rate', human(done - skipped), secs.toFixed(1), human((done - skipped) / Math.max(secs, 0.001))) : '') +
            (failedNames.length ? ' ' + msg('failednames', failedNames.slice(0, 10).map(isolated).join(', ') + (failedNames.length > 10 ? ' …' : '')) : '');
          document.getElementById('start').disabled = false;
          cancel.disabled = true;
          if (notDeposited.length) state(notDeposited);
          return;
        }
        var c = chosen[i], row = rows[i];
        var q = new URLSearchParams({ name: c.name });
        var hex = sums.map[listed(c)];
        if (hex) q.set('expect_sha256', hex);
        if (document.getElementById('again').checked) q.set('again', 'yes');
        row.state.textContent = msg('uploading');
        ['source', 'note', 'report'].forEach(function (k) {
          var v = document.getElementById(k).value.trim();
          if (v) q.set(k, v);
        });
        if (!q.has('again') && c.file.size <= precheckMax && window.crypto && crypto.subtle) {
          // Hashed here only to ask whether the case holds this file
          // already, so that a copy is not sent whole; the vault hashes
          // what it receives, and its hashes are the record.
          row.state.textContent = msg('checking');
          sha256hex(c.file).then(function (sum) {
            return fetch(form.dataset.held + '?' + new URLSearchParams({ name: c.name, sha256: sum, source: q.get('source') || '' }).toString(),
              { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
              .then(function (resp) {
                if (resp.status === 403 || resp.status === 404 || resp.status === 409) {
                  // The person may no longer add to the case (removed
                  // from it: 403 or 404; the case destroyed: 409): the
                  // vault has recorded the refusal; nothing more is sent.
                  return resp.json().then(function (b) { return { refused: b.error || resp.statusText }; },
                    function () { return { refused: resp.statusText }; });
                }
                return resp.ok ? resp.json() : { item: '' };
              })
              .then(function (b) { return { item: b.item || '', sum: sum, refused: b.refused }; });
          }).catch(function () { return { item: '' }; }).then(function (held) {
            if (stopped) {
              next(i);
            } else if (held.refused) {
              failed++;
              failedNames.push(c.name);
              row.li.className = 'failed';
              row.bar.className = 'failed';
              row.state.textContent = msg('failed', held.refused);
              stopped = true;
              next(i + 1);
            } else if (held.item && (!hex || hex === held.sum)) {
              // (A file whose content differs from its line in the pasted
              // list is sent, for the vault to refuse and say so.)
              already++;
              row.li.className = 'already';
              row.bar.value = row.bar.max;
              row.state.textContent = msg('held', held.item);
              done += c.file.size;
              skipped += c.file.size;
              overall.value = done;
              next(i + 1);
            } else {
              row.state.textContent = msg('uploading');
              send(c, row, q, i);
            }
          });
          return;
        }
        send(c, row, q, i);
      }

      // send uploads one file as the body of the deposit's POST.
      function send(c, row, q, i) {
        var xhr = new XMLHttpRequest();
        current = xhr;
        xhr.open('POST', form.action + '?' + q.toString());
        xhr.setRequestHeader('X-Custos-CSRF', form.dataset.csrf);
        xhr.setRequestHeader('Accept', 'application/json');
        xhr.setRequestHeader('Content-Type', 'application/octet-stream');
        xhr.upload.onprogress = function (e) {
          row.bar.value = e.loaded;
          overall.value = done + e.loaded;
          overallText.textContent = msg('bytes', human(done + e.loaded), human(total));
        };
        xhr.onload = function () {
          var body = {};
          try { body = JSON.parse(xhr.responseText); } catch (e) { body = { error: xhr.statusText }; }
          if (xhr.status === 201) {
            stored++;
            row.bar.value = row.bar.max;
            row.li.className = 'done';
            row.state.textContent = msg('done', body.id + ', SHA-256 ' + body.sha256);
            // What the command line says of a deposit, said here too:
            // the hash sets it matched, and known material hidden from
            // review.
            (body.matches || []).forEach(function (m) {
              row.state.textContent += ' ' + msg('matched', m.set + (m.category ? ' (' + m.category + ')' : ''));
            });
            if (body.known) {
              row.state.textContent += ' ' + msg('known', body.known);
            }
          } else if (xhr.status === 409 && body.already) {
            // The case holds this file under this name already.
            already++;
            row.li.className = 'already';
            row.bar.value = row.bar.max;
            row.state.textContent = msg('already', body.already);
          } else {
            failed++;
            failedNames.push(c.name);
            row.li.className = 'failed';
            row.bar.className = 'failed';
            row.state.textContent = msg('failed', body.error || xhr.statusText);
            if (xhr.status === 400 || xhr.status === 422) {
              // Refused for what was sent (its content not its
              // acquisition hash, a name the vault does not accept, an
              // upload altered on its way): content the case does not
              // hold, as custos deposit states it.
              notDeposited.push({ path: c.name, reason: 'refused: ' + (body.error || xhr.statusText), left_behind: true });
            }
          }
          done += c.file.size;
          overall.value = done;
          next(i + 1);
        };
        xhr.onerror = xhr.onabort = function () {
          failed++;
          failedNames.push(c.name);
          row.li.className = 'failed';
          row.bar.className = 'failed';
          done += c.file.size;
          if (stopped) {
            row.state.textContent = msg('failed', msg('cancelled'));
            next(i + 1);
            return;
          }
          // A file the browser cannot read (no permission, moved or
          // deleted since it was chosen) fails as a lost connection
          // does: read a byte of it to tell which.
          // (A file gone since it was chosen may give its size as 0:
          // then the whole of it, nothing, is read.)
          (c.file.size ? c.file.slice(0, 1) : c.file).arrayBuffer().then(function () { return null; }, function (e) { return e || 'unreadable'; }).then(function (e) {
            if (e) {
              row.state.textContent = msg('failed', msg('unreadable'));
              notDeposited.push({ path: c.name, reason: 'could not be read on the depositor\'s computer (' + (e.name || String(e)) + ')', left_behind: true });
            } else {
              row.state.textContent = msg('failed', msg('lost'));
            }
            next(i + 1);
          });
        };
        xhr.send(c.file);
      }

      // state records what the run found and did not store as the
      // depositor's statement (deposit.skipped), and says so.
      function state(files) {
        var st = { source: document.getElementById('source').value.trim(), count: files.length, deposited: stored, already: already, files: files.slice(0, 500) };
        fetch(form.dataset.skipped, {
          method: 'POST', credentials: 'same-origin', body: JSON.stringify(st),
          headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-Custos-CSRF': form.dataset.csrf }
        }).then(function (resp) {
          return resp.json().then(function (b) { return { ok: resp.status === 201, b: b }; }, function () { return { ok: false, b: { error: resp.statusText } }; });
        }, function () { return { ok: false, b: { error: msg('lost') } }; }).then(function (r) {
          overallText.textContent += ' ' + (r.ok ? msg('statement', r.b.event) : msg('nostatement', r.b.error || ''));
          form.dataset.statement = r.ok ? String(r.b.event) : 'failed';
        });
      }
      var began = performance.now();
      next(0);
    });
  }

  // ---- The reviewer-welfare viewer ----------------------------------

  function setupViewer(form) {
    var viewer = document.getElementById('viewer');
    var stage = document.getElementById('stage');
    var status = document.getElementById('view-status');
    var warning = document.getElementById('viewer-warning');
    var sharpen = document.getElementById('sharpen');
    var colour = document.getElementById('colour');
    var url = null, media = null;

    function release() {
      if (media) { if (media.pause) media.pause(); media.removeAttribute('src'); if (media.load) media.load(); }
      stage.textContent = '';
      if (url) URL.revokeObjectURL(url);
      url = null; media = null;
      viewer.classList.add('hidden');
    }
    window.addEventListener('pagehide', release);
    // No context menu on what is shown: "open in a new tab" would show it
    // without the filter, "save as" would write it to disk.
    stage.addEventListener('contextmenu', function (e) { e.preventDefault(); });
    stage.addEventListener('dragstart', function (e) { e.preventDefault(); });
    document.getElementById('close-view').addEventListener('click', release);
    sharpen.addEventListener('click', function () {
      if (!media) return;
      var on = sharpen.getAttribute('aria-pressed') !== 'true';
      sharpen.setAttribute('aria-pressed', String(on));
      media.classList.toggle('protected', !on);
      media.classList.toggle('grey', on && colour.getAttribute('aria-pressed') !== 'true');
    });
    colour.addEventListener('click', function () {
      if (!media) return;
      var on = colour.getAttribute('aria-pressed') !== 'true';
      colour.setAttribute('aria-pressed', String(on));
      if (sharpen.getAttribute('aria-pressed') === 'true') media.classList.toggle('grey', !on);
    });

    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      release();
      status.textContent = '…';
      var body = new URLSearchParams(new FormData(form));
      // Shown in the viewer, which offers no save: recorded as shown.
      // Anything else is a download, recorded as a copy.
      if (form.dataset.show === 'image' || form.dataset.show === 'video') body.set('viewer', 'yes');
      fetch(form.action, {
        method: 'POST', body: body, credentials: 'same-origin',
        headers: { 'Accept': 'application/json, application/octet-stream' }, cache: 'no-store'
      }).then(function (resp) {
        if (!resp.ok) {
          return resp.json().then(function (b) { throw new Error(b.error || resp.statusText); },
            function () { throw new Error(resp.statusText); });
        }
        var warn = resp.headers.get('Custos-Warning');
        var today = resp.headers.get('Custos-Exposure-Today');
        return resp.blob().then(function (b) { return { blob: b, warn: warn, today: today }; });
      }).then(function (r) {
        status.textContent = '';
        if (r.warn) { warning.textContent = r.warn; warning.classList.remove('hidden'); } else { warning.classList.add('hidden'); }
        var exp = document.getElementById('exposure');
        if (exp && r.today !== null) document.getElementById('exposure-today').textContent = r.today;
        var show = form.dataset.show, type = form.dataset.type;
        // The Blob is given the type the vault's probe found (an image or
        // MP4 video), or none to download: never the file's own type, so
        // that a deposited page or SVG never runs in this origin.
        if (show === 'image' || show === 'video') {
          url = URL.createObjectURL(new Blob([r.blob], { type: type }));
          if (show === 'image') {
            media = document.createElement('img');
            media.alt = '';
          } else {
            media = document.createElement('video');
            media.controls = true; media.muted = true; media.autoplay = false;
            media.preload = 'metadata'; media.setAttribute('playsinline', '');
            // The browser's own controls must not take the video out of
            // the viewer: no picture-in-picture (unfiltered), no download,
            // no casting.
            media.disablePictureInPicture = true;
            media.disableRemotePlayback = true;
            media.setAttribute('controlsList', 'nodownload noremoteplayback noplaybackrate');
          }
          media.className = 'protected';
          media.id = 'evidence';
          media.addEventListener('error', function () {
            // Not a format this browser plays: say so. What was sent to
            // be shown is not offered as a file (it was recorded as
            // shown); the form now downloads a copy, recorded as one.
            form.dataset.show = '';
            var button = form.querySelector('button[type="submit"]');
            if (button) button.textContent = msg('download');
            status.textContent = msg('unplayable');
          });
          media.src = url;
          sharpen.setAttribute('aria-pressed', 'false');
          colour.setAttribute('aria-pressed', 'false');
          stage.appendChild(media);
          viewer.classList.remove('hidden');
          sharpen.focus();
        } else {
          url = URL.createObjectURL(new Blob([r.blob], { type: 'application/octet-stream' }));
          var a = document.createElement('a');
          a.href = url; a.download = form.action.split('/').slice(-2)[0];
          document.body.appendChild(a); a.click(); a.remove();
          setTimeout(function () { URL.revokeObjectURL(url); url = null; }, 60000);
        }
      }).catch(function (e) {
        status.textContent = e.message;
        status.className = 'error';
      });
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    Array.prototype.forEach.call(document.querySelectorAll('[data-back]'), function (b) {
      b.classList.remove('hidden');
      b.addEventListener('click', function () { history.back(); });
    });
    // A form with a one-time value (a sealing, an approval) is sent once:
    // a second click while the first is answered would make the browser
    // show the second answer instead, losing what the first showed once
    // (an invitation half). Back to the page from the browser's cache,
    // it may be sent again, and the vault says what the first did.
    var onceForms = Array.prototype.map.call(document.querySelectorAll('form input[name=once]'), function (once) { return once.form; });
    onceForms.forEach(function (form) {
      form.addEventListener('submit', function (ev) {
        if (form.dataset.sent) {
          ev.preventDefault();
          return;
        }
        form.dataset.sent = 'yes';
      });
    });
    window.addEventListener('pageshow', function (ev) {
      if (ev.persisted) onceForms.forEach(function (form) { delete form.dataset.sent; });
    });
    // A field's maxlength counts what the browser counts (UTF-16 code
    // units); the vault keeps at most that many bytes of UTF-8, in which
    // a Khmer or Thai letter takes 3. A longer text is refused by the
    // vault with a clear message; the page says so first, at the field.
    var toolong = document.body.dataset.toolong || '%d > %d';
    var utf8 = new TextEncoder();
    Array.prototype.forEach.call(document.querySelectorAll('input[maxlength], textarea[maxlength]'), function (f) {
      var max = f.maxLength;
      var check = function () {
        var n = utf8.encode(f.value).length, args = [n, max];
        f.setCustomValidity(n > max ? toolong.replace(/%d/g, function () { return String(args.shift()); }) : '');
      };
      f.addEventListener('input', check);
      check();
    });
    var up = document.getElementById('upload');
    if (up) setupUpload(up);
    var rv = document.getElementById('reveal');
    if (rv) setupViewer(rv);
    // A time "if earlier" is typed on the person's own clock: the form
    // sends the offset of their time zone from UTC at that date, in
    // minutes east, so that the server can place it (statedAt).
    Array.prototype.forEach.call(document.querySelectorAll('input.tz'), function (tz) {
      var form = tz.form, local = form && form.querySelector('input[name="at_local"]');
      if (!local) return;
      form.addEventListener('submit', function () {
        tz.value = local.value ? String(-new Date(local.value).getTimezoneOffset()) : '';
      });
    });
  });
})();
