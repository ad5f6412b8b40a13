package web

import "testing"

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
	state := bv.revealVideo(t, ctx, "PIP-1")
	if state["tag"] != "VIDEO" {
		t.Fatalf("the viewer shows %v", state)
	}
	if state["pip"] != true || state["nodownload"] != true {
		t.Fatalf("the revealed video's native controls offer picture-in-picture (unfiltered) or a download: %v", state)
	}
}
