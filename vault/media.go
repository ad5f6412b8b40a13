package vault

import (
	"bufio"
	"bytes"
	"io"
	"time"

	"github.com/custos-vault/custos/internal/mp4"
	"github.com/custos-vault/custos/pdq"
)

// What a deposit learns of an image or a video in its one pass: the
// plaintext is read once, by the encryption; a file that starts like an
// image or an ISO media file is also handed, as it streams past, to a
// second reader (an io.Pipe fed by the first), which computes the
// image's PDQ hash or reads the video's duration and then drains the
// rest. Nothing is buffered beyond what the image decoder holds (the
// decoded pixels, bounded by pdq's pixel limit); a file that is not an
// image or a video is not teed at all.

// sniffBytes is how much of a file's start decides what it is.
const sniffBytes = 64

// mediaKind names what the first bytes of a file say it is: "image",
// "video" or "".
func mediaKind(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}),
		bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")),
		bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")),
		len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return "image"
	case mp4.Sniff(head):
		return "video"
	}
	return ""
}

// mediaProbe is the second reader of a deposit's plaintext.
type mediaProbe struct {
	pw   *io.PipeWriter
	done chan *MediaInfo
}

// probeMedia returns the reader a deposit encrypts from: body itself,
// or, for an image or video, a reader that also feeds the probe. The
// probe's answer is read with result once the encryption has read to
// the end (or failed, which ends the probe too).
func (v *Vault) probeMedia(body io.Reader) (io.Reader, *mediaProbe) {
	br := bufio.NewReaderSize(body, 4096)
	head, _ := br.Peek(sniffBytes)
	kind := mediaKind(head)
	if kind == "" || kind == "image" && v.hashImage == nil {
		return br, nil
	}
	pr, pw := io.Pipe()
	p := &mediaProbe{pw: pw, done: make(chan *MediaInfo, 1)}
	go func() {
		var m *MediaInfo
		if kind == "image" {
			m = v.hashImage(pr)
		} else {
			m = &MediaInfo{Kind: "video", Format: "mp4"}
			if d, err := mp4.Duration(pr); err == nil {
				m.DurationMS = d.Milliseconds()
			} else {
				m.NotHashed = "duration not read: " + err.Error()
			}
		}
		// Drain what the probe did not need, so that the encryption
		// side never blocks on the pipe.
		io.Copy(io.Discard, pr)
		p.done <- m
	}()
	return &teeToProbe{r: br, pw: pw}, p
}

// result waits for the probe's answer; a probe that takes longer than
// the deposit by more than a minute is abandoned ("not hashed").
func (p *mediaProbe) result(encErr error) *MediaInfo {
	if p == nil {
		return nil
	}
	p.pw.CloseWithError(encErr)
	select {
	case m := <-p.done:
		return m
	case <-time.After(time.Minute):
		return &MediaInfo{NotHashed: "the image took too long to hash"}
	}
}

// teeToProbe reads from r and writes what it read to the probe's pipe;
// at the end of r it closes the pipe.
type teeToProbe struct {
	r  io.Reader
	pw *io.PipeWriter
}

func (t *teeToProbe) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 && t.pw != nil {
		if _, werr := t.pw.Write(p[:n]); werr != nil {
			// The probe ended early: it drains, so this only happens
			// after it was closed; the deposit goes on regardless.
			t.pw = nil
		}
	}
	if err == io.EOF && t.pw != nil {
		t.pw.Close()
	}
	return n, err
}

// hashImagePDQ computes an image's PDQ hash, quality and dihedral
// variants (docs/pdq.md) with pdq's default limits; an image it cannot
// or will not decode (too many pixels, a damaged file) gets the reason
// instead.
func hashImagePDQ(r io.Reader) *MediaInfo {
	res, err := pdq.HashReader(r, pdq.DefaultLimits)
	if err != nil {
		return &MediaInfo{Kind: "image", NotHashed: err.Error()}
	}
	m := &MediaInfo{Kind: "image", Format: res.Format, PDQ: res.Hash.String(), Quality: res.Quality, Width: res.Width, Height: res.Height}
	for _, h := range res.Dihedral[1:] {
		m.Dihedral = append(m.Dihedral, h.String())
	}
	return m
}
