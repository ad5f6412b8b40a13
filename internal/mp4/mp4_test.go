package mp4

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"
)

func box(typ string, body ...[]byte) []byte {
	b := bytes.Join(body, nil)
	out := binary.BigEndian.AppendUint32(nil, uint32(8+len(b)))
	return append(append(out, typ...), b...)
}

func mvhdV0(scale, units uint32) []byte {
	b := make([]byte, 100)
	binary.BigEndian.PutUint32(b[12:], scale)
	binary.BigEndian.PutUint32(b[16:], units)
	return box("mvhd", b)
}

func mvhdV1(scale uint32, units uint64) []byte {
	b := make([]byte, 112)
	b[0] = 1
	binary.BigEndian.PutUint32(b[20:], scale)
	binary.BigEndian.PutUint64(b[24:], units)
	return box("mvhd", b)
}

func ftyp() []byte { return box("ftyp", []byte("isom\x00\x00\x02\x00isomiso2mp41")) }

func TestDuration(t *testing.T) {
	mdat := box("mdat", bytes.Repeat([]byte{0xAB}, 100000))
	cases := []struct {
		name string
		file []byte
		want time.Duration
	}{
		{"moov first, v0", bytes.Join([][]byte{ftyp(), box("moov", mvhdV0(1000, 90500)), mdat}, nil), 90500 * time.Millisecond},
		{"moov last, v1", bytes.Join([][]byte{ftyp(), mdat, box("moov", box("udta"), mvhdV1(90000, 90000*3600))}, nil), time.Hour},
		{"mvhd after trak", bytes.Join([][]byte{ftyp(), box("moov", box("trak", make([]byte, 500)), mvhdV0(600, 300))}, nil), 500 * time.Millisecond},
	}
	for _, c := range cases {
		if !Sniff(c.file) {
			t.Errorf("%s: not sniffed as MP4", c.name)
		}
		got, err := Duration(bytes.NewReader(c.file))
		if err != nil || got != c.want {
			t.Errorf("%s: Duration = %v, %v; want %v", c.name, got, err, c.want)
		}
	}
}

func TestDurationLargeBox(t *testing.T) {
	// A 64-bit box size (size field 1) in front of moov.
	var big []byte
	big = binary.BigEndian.AppendUint32(big, 1)
	big = append(big, "mdat"...)
	big = binary.BigEndian.AppendUint64(big, 16+4)
	big = append(big, 1, 2, 3, 4)
	file := bytes.Join([][]byte{ftyp(), big, box("moov", mvhdV0(1, 42))}, nil)
	if got, err := Duration(bytes.NewReader(file)); err != nil || got != 42*time.Second {
		t.Fatalf("Duration = %v, %v", got, err)
	}
}

func TestDurationBad(t *testing.T) {
	bad := map[string][]byte{
		"empty":             nil,
		"no moov":           bytes.Join([][]byte{ftyp(), box("mdat", make([]byte, 10))}, nil),
		"truncated box":     append(ftyp(), 0, 0, 1, 0, 'm', 'd', 'a', 't', 1, 2),
		"size below head":   append(ftyp(), 0, 0, 0, 4, 'm', 'd', 'a', 't'),
		"zero timescale":    bytes.Join([][]byte{ftyp(), box("moov", mvhdV0(0, 5))}, nil),
		"unknown duration":  bytes.Join([][]byte{ftyp(), box("moov", mvhdV0(1000, 0xFFFFFFFF))}, nil),
		"version 2":         bytes.Join([][]byte{ftyp(), box("moov", box("mvhd", append([]byte{2}, make([]byte, 99)...)))}, nil),
		"short mvhd":        bytes.Join([][]byte{ftyp(), box("moov", box("mvhd", make([]byte, 8)))}, nil),
		"moov without mvhd": bytes.Join([][]byte{ftyp(), box("moov", box("trak", make([]byte, 8)))}, nil),
	}
	for name, file := range bad {
		if d, err := Duration(bytes.NewReader(file)); err == nil {
			t.Errorf("%s: Duration = %v, want an error", name, d)
		}
	}
	if _, err := Duration(bytes.NewReader(nil)); !errors.Is(err, ErrNoDuration) {
		t.Errorf("empty: %v, want ErrNoDuration", err)
	}
}

// TestDurationStopsAtMoov: nothing after the moov box is read.
func TestDurationStopsAtMoov(t *testing.T) {
	file := bytes.Join([][]byte{ftyp(), box("moov", mvhdV0(10, 20))}, nil)
	r := io.MultiReader(bytes.NewReader(file), errReader{})
	if got, err := Duration(r); err != nil || got != 2*time.Second {
		t.Fatalf("Duration = %v, %v", got, err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("read past moov") }

func FuzzDuration(f *testing.F) {
	f.Add(bytes.Join([][]byte{ftyp(), box("moov", mvhdV0(1000, 90500))}, nil))
	f.Add(bytes.Join([][]byte{ftyp(), box("moov", mvhdV1(90000, 1<<40))}, nil))
	f.Add([]byte("\x00\x00\x00\x01mdat\xff\xff\xff\xff\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Duration(bytes.NewReader(b))
		if err == nil && d < 0 {
			t.Fatalf("negative duration %v", d)
		}
	})
}
