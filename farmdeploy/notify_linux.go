package farmdeploy

import (
	"bytes"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// notifier reports names of files in a directory that were just closed
// after writing or renamed into it: such a file is complete, so the watcher
// need not wait for its size to settle. Linux only (inotify); elsewhere the
// watcher polls.
type notifier struct {
	f *os.File
}

func newNotifier(dir string) (*notifier, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, err
	}
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_CLOSE_WRITE|unix.IN_MOVED_TO|unix.IN_DELETE|unix.IN_MOVED_FROM); err != nil {
		unix.Close(fd)
		return nil, err
	}
	// A non-blocking descriptor joins Go's poller: Read parks the goroutine
	// and Close wakes it.
	return &notifier{f: os.NewFile(uintptr(fd), "inotify:"+dir)}, nil
}

// run sends each complete or removed file name to out until close.
func (n *notifier) run(out chan<- string) {
	buf := make([]byte, 64*(unix.SizeofInotifyEvent+unix.NAME_MAX+1))
	for {
		k, err := n.f.Read(buf)
		if err != nil {
			return
		}
		for off := 0; off+unix.SizeofInotifyEvent <= k; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			end := off + unix.SizeofInotifyEvent + int(ev.Len)
			if end > k {
				break
			}
			name := buf[off+unix.SizeofInotifyEvent : end]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			if len(name) > 0 {
				select {
				case out <- string(name):
				default: // the loop is busy; its next poll sees the file anyway
				}
			}
			off = end
		}
	}
}

func (n *notifier) close() { n.f.Close() }
