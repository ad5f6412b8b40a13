package web

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/custos-vault/custos/vault"
)

// TestBrowserUploadFolder: a folder chosen in the folder field is
// uploaded file by file, each keeping its path below the folder.
func TestBrowserUploadFolder(t *testing.T) {
	bv := newBrowserVault(t)
	ctx := bv.ctx
	bv.openCase(t, "FD-1")
	dir := filepath.Join(t.TempDir(), "phone")
	os.MkdirAll(filepath.Join(dir, "DCIM", "100APPLE"), 0o700)
	os.WriteFile(filepath.Join(dir, "DCIM", "100APPLE", "IMG_0001.JPG"), []byte("one"), 0o600)
	os.WriteFile(filepath.Join(dir, "chats.txt"), []byte("two"), 0o600)
	bv.signIn(t, ctx, "inv")
	run(t, ctx, chromedp.Navigate(bv.url+"/app/cases/FD-1/upload"),
		chromedp.SetUploadFiles(chromedp.ID("folder"), []string{dir}),
		chromedp.Click(chromedp.ID("start")))
	value(t, ctx, chromedp.Poll[bool](`document.querySelectorAll('#uploads li.done').length === 2`))
	items, err := bv.v.Items(context.Background(), inv, "FD-1", vault.ItemFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, it := range items {
		names = append(names, it.Name)
	}
	slices.Sort(names)
	if want := []string{"phone/DCIM/100APPLE/IMG_0001.JPG", "phone/chats.txt"}; !slices.Equal(names, want) {
		t.Fatalf("the folder's files were stored as %v, want %v", names, want)
	}
}
