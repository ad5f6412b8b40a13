package events

import (
	"crypto/sha256"
	"fmt"
	"sync"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// Hasher is the RFC 6962 SHA-256 hasher used for every tree and proof.
var Hasher = rfc6962.DefaultHasher

const hashSize = len(Hash{})

// HashChildren is Hasher.HashChildren, the RFC 6962 interior node
// SHA-256(0x01 || left || right) (section 2.1), with one allocation
// (the 32-byte result) instead of four when both are 32-byte hashes, as
// every node of the log's tree is. Compact ranges take it as their Hash.
func HashChildren(left, right []byte) []byte {
	if len(left) != hashSize || len(right) != hashSize {
		return Hasher.HashChildren(left, right)
	}
	h := hashChildren(Hash(left), Hash(right))
	return h[:]
}

// hashChildren is HashChildren of two hashes, without allocating.
func hashChildren(left, right Hash) Hash {
	var buf [1 + 2*hashSize]byte
	buf[0] = rfc6962.RFC6962NodeHashPrefix
	copy(buf[1:], left[:])
	copy(buf[1+hashSize:], right[:])
	return sha256.Sum256(buf[:])
}

var rangeFactory = compact.RangeFactory{Hash: HashChildren}

// Tree holds every complete node of the log's Merkle tree in memory, so that
// roots, inclusion proofs and consistency proofs for any earlier size can be
// answered without touching the store. Level 0 holds the leaf hashes; level
// L holds the floor(size/2^L) complete nodes of height L. It costs about 64
// bytes per event. Tree is safe for concurrent use.
type Tree struct {
	mu     sync.RWMutex
	levels [][]Hash
}

// Size returns the number of leaves.
func (t *Tree) Size() uint64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.size()
}

func (t *Tree) size() uint64 {
	if len(t.levels) == 0 {
		return 0
	}
	return uint64(len(t.levels[0]))
}

// Append adds leaf hashes and the complete nodes they finish.
func (t *Tree) Append(leaves ...Hash) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, leaf := range leaves {
		t.appendOne(leaf)
	}
}

func (t *Tree) appendOne(h Hash) {
	for level := 0; ; level++ {
		if level == len(t.levels) {
			t.levels = append(t.levels, nil)
		}
		t.levels[level] = append(t.levels[level], h)
		n := len(t.levels[level])
		if n%2 == 1 {
			return
		}
		h = hashChildren(t.levels[level][n-2], t.levels[level][n-1])
	}
}

// Truncate drops leaves from size on, with the nodes above them. The
// sequencer uses it to undo a batch the store refused.
func (t *Tree) Truncate(size uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for level := range t.levels {
		n := size >> uint(level)
		if uint64(len(t.levels[level])) > n {
			t.levels[level] = t.levels[level][:n]
		}
	}
}

// Leaf returns the leaf hash at index.
func (t *Tree) Leaf(index uint64) (Hash, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if index >= t.size() {
		return Hash{}, fmt.Errorf("leaf %d beyond tree size %d", index, t.size())
	}
	return t.levels[0][index], nil
}

// Root returns the root hash of the tree of the given size.
func (t *Tree) Root(size uint64) (Hash, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if size > t.size() {
		return Hash{}, fmt.Errorf("size %d beyond tree size %d", size, t.size())
	}
	return RootOf(size, t.nodeOf)
}

// InclusionProof proves that leaf index is in the tree of the given size.
func (t *Tree) InclusionProof(index, size uint64) ([][]byte, error) {
	return t.proof(proof.Inclusion(index, size))
}

// ConsistencyProof proves that the tree of size1 is a prefix of the tree of
// size2.
func (t *Tree) ConsistencyProof(size1, size2 uint64) ([][]byte, error) {
	return t.proof(proof.Consistency(size1, size2))
}

func (t *Tree) proof(nodes proof.Nodes, err error) ([][]byte, error) {
	if err != nil {
		return nil, err
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	return ProofOf(nodes, t.size(), t.nodeOf)
}

func (t *Tree) nodeOf(id compact.NodeID) (Hash, error) {
	return t.levels[id.Level][id.Index], nil
}

// A NodeReader returns a complete node of a tree: the root of the perfect
// subtree at level id.Level (0: leaves) and index id.Index.
type NodeReader func(id compact.NodeID) (Hash, error)

// RootOf computes the root hash of the tree of the given size (RFC 6962
// section 2.1) from the complete nodes node returns: those of
// compact.RangeNodes(0, size).
func RootOf(size uint64, node NodeReader) (Hash, error) {
	var root Hash
	if size == 0 {
		copy(root[:], Hasher.EmptyRoot())
		return root, nil
	}
	ids := compact.RangeNodes(0, size, nil)
	hashes := make([][]byte, len(ids))
	for i, id := range ids {
		h, err := node(id)
		if err != nil {
			return root, err
		}
		hashes[i] = h[:]
	}
	r, err := rangeFactory.NewRange(0, size, hashes)
	if err != nil {
		return root, err
	}
	h, err := r.GetRootHash(nil)
	if err != nil {
		return root, err
	}
	copy(root[:], h)
	return root, nil
}

// ProofOf assembles an inclusion or consistency proof (RFC 6962 section
// 2.1.1 and 2.1.2) in a tree of treeSize leaves from the nodes it names,
// as node returns them.
func ProofOf(nodes proof.Nodes, treeSize uint64, node NodeReader) ([][]byte, error) {
	hashes := make([][]byte, len(nodes.IDs))
	for i, id := range nodes.IDs {
		if (id.Index+1)<<id.Level > treeSize {
			return nil, fmt.Errorf("proof node %d/%d beyond tree size %d", id.Level, id.Index, treeSize)
		}
		h, err := node(id)
		if err != nil {
			return nil, err
		}
		hashes[i] = h[:]
	}
	return nodes.Rehash(hashes, HashChildren)
}

// VerifyInclusion checks an inclusion proof of leaf at index against root.
func VerifyInclusion(index, size uint64, leaf Hash, p [][]byte, root Hash) error {
	return proof.VerifyInclusion(Hasher, index, size, leaf[:], p, root[:])
}

// VerifyConsistency checks that root2 (size2) extends root1 (size1).
func VerifyConsistency(size1, size2 uint64, p [][]byte, root1, root2 Hash) error {
	return proof.VerifyConsistency(Hasher, size1, size2, p, root1[:], root2[:])
}
