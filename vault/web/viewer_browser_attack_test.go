package web

import (
	"bytes"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestAttackBrowserVideoControlsBypassWelfare: a revealed video opens
// greyscale and blurred (a CSS filter on the <video>), but the browser's
// own video controls offer picture-in-picture, which plays the video in a
// window of its own without the page's filter (in colour, sharp, on top
// of every window), and a download of the Blob to disk: the viewer's
// protections and "no copies" are one click of the native controls away.
// The element must disable picture-in-picture and the controls' download.
func TestAttackBrowserVideoControlsBypassWelfare(t *testing.T) {
	bv := newBrowserVault(t)
	ctx := bv.ctx
	bv.openCase(t, "PIP-1")
	box := func(typ string, body []byte) []byte {
		b := make([]byte, 8, 8+len(body))
		b[0], b[1], b[2], b[3] = byte((8+len(body))>>24), byte((8+len(body))>>16), byte((8+len(body))>>8), byte(8+len(body))
		copy(b[4:], typ)
		return append(b, body...)
	}
	mp4 := append(box("ftyp", []byte("isom\x00\x00\x02\x00isom")), box("mdat", bytes.Repeat([]byte{1}, 4096))...)
	item := bv.deposit(t, "PIP-1", "clip.mp4", mp4)
	bv.signIn(t, ctx, "inv")
	run(t, ctx, chromedp.Navigate(bv.url+"/app/items/"+item),
		chromedp.SendKeys(chromedp.ID("purpose"), "review"),
		chromedp.Click(chromedp.CSS("#reveal button[type=submit]")),
		chromedp.WaitReady(chromedp.ID("evidence")))
	state := value(t, ctx, chromedp.Evaluate[map[string]any](`(() => { const v = document.getElementById('evidence');
		return {tag: v.tagName, pip: v.disablePictureInPicture === true,
			nodownload: !!(v.controlsList && v.controlsList.contains('nodownload'))}; })()`))
	if state["tag"] != "VIDEO" {
		t.Fatalf("the viewer shows %v", state)
	}
	if state["pip"] != true || state["nodownload"] != true {
		t.Fatalf("the revealed video's native controls offer picture-in-picture (unfiltered) or a download: %v", state)
	}
}
