# Guest steps: each is one command dom0 sends (see domu-init.sh).  They print
# what they saw and return non-zero when something went wrong.

front_load() {  # front_load KIND [PARAM=VALUE ...]: insmod a frontend
    local kind=$1; shift
    insmod /xdg/front/$kind/xen-blkfront.ko "$@" || return
    echo "loaded the $kind xen-blkfront $*"
}

disk_info() {  # disk_info DEV: what the block layer made of the disk
    local d=/sys/block/$1 q=/sys/block/$1/queue
    echo "size=$(cat $d/size) lbs=$(cat $q/logical_block_size) pbs=$(cat $q/physical_block_size)" \
         "max_segs=$(cat $q/max_segments) max_kb=$(cat $q/max_sectors_kb) hw_queues=$(ls $d/mq | wc -l)" \
         "cache=$(tr ' ' _ < $q/write_cache) discard_max=$(cat $q/discard_max_bytes) ro=$(cat $d/ro)"
}

disk_wait() {  # disk_wait DEV [SECS]: wait for the disk to appear
    local i=0
    while [ ! -b /dev/$1 ] || [ ! -e /sys/block/$1/size ]; do
        if [ $i -ge $((${2:-60} * 10)) ]; then
            echo "no /dev/$1 after ${2:-60} s"
            dmesg | tail -5
            return 1
        fi
        sleep 0.1; i=$((i + 1))
    done
    disk_info $1
}

disk_gone() {  # disk_gone DEV [SECS]: wait for the disk to disappear
    local i=0
    while [ -e /sys/block/$1 ]; do
        [ $i -ge $((${2:-30} * 10)) ] && { echo "/sys/block/$1 still present after ${2:-30} s"; return 1; }
        sleep 0.1; i=$((i + 1))
    done
    echo "$1 is gone"
}

wr() {  # wr DEV SEED OFF LEN BS [direct]: write the pattern, then fsync
    local fl=seek_bytes
    [ "${6:-}" = direct ] && fl=$fl,direct
    pat $2 $3 $4 | dd of=/dev/$1 bs=$5 seek=$3 iflag=fullblock oflag=$fl conv=notrunc,fsync status=none \
        || { echo "write of $4 bytes at $3 to $1 failed"; return 1; }
}

rd() {  # rd DEV SEED OFF LEN [direct]: read back and compare with the pattern
    local t0=$(uptime_s)
    same_as_pattern /dev/$1 $2 $3 $4 ${5:-} || return
    echo "ok $1 [$3, +$4) in $(awk "BEGIN { print $(uptime_s) - $t0 }") s"
}

drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }

# wr_many / rd_many DEV SEED OFF:LEN:BS:FLAGS...: several regions in one step.
wr_many() {
    local dev=$1 seed=$2 r bad=0; shift 2
    for r in "$@"; do wr $dev $seed $(echo $r | tr : ' ') || bad=1; done
    return $bad
}
rd_many() {
    local dev=$1 seed=$2 r bad=0; shift 2
    drop_caches
    for r in "$@"; do rd $dev $seed $(echo $r | cut -d: -f1,2,4 | tr : ' ') || bad=1; done
    return $bad
}

par_io() {  # par_io DEV SEED0 N OFF0 SIZE BS: N writers, then N readers, at once
    local i=0 bad=0
    rm -f /tmp/par.*
    while [ $i -lt $3 ]; do
        taskset $((1 << (i % $(nproc)))) sh -c ". /xdg/lib.sh; . /xdg/domu-steps.sh; \
            wr $1 $(($2 + i)) $(($4 + i * $5)) $5 $6 direct" > /tmp/par.w$i 2>&1 &
        i=$((i + 1))
    done
    wait
    i=0
    while [ $i -lt $3 ]; do
        taskset $((1 << (i % $(nproc)))) sh -c ". /xdg/lib.sh; . /xdg/domu-steps.sh; \
            rd $1 $(($2 + i)) $(($4 + i * $5)) $5 direct" > /tmp/par.r$i 2>&1 &
        i=$((i + 1))
    done
    wait
    for f in /tmp/par.*; do
        case $f in /tmp/par.r*) grep -q '^ok ' $f || { bad=1; cat $f; } ;;
                   *) [ -s $f ] && { bad=1; cat $f; } ;; esac
    done
    [ $bad = 0 ] && echo "$3 parallel writers and readers ok"
    return $bad
}

bw_start() {  # bw_start DEV SEED OFF BS NB: background writer over NB blocks
    rm -f /tmp/bw.*
    (
        i=0
        while [ ! -e /tmp/bw.stop ]; do
            b=$((i % $5)); o=$(($3 + b * $4))
            if wr $1 $2 $o $4 $4 direct > /tmp/bw.last 2>&1 && rd $1 $2 $o $4 direct >> /tmp/bw.last 2>&1; then
                echo $b >> /tmp/bw.done
            else
                echo "$(uptime_s) block $b: $(cat /tmp/bw.last)" >> /tmp/bw.err
            fi
            i=$((i + 1))
            sleep 0.05
        done
        echo $i > /tmp/bw.end
    ) > /dev/null 2>&1 &
    echo "writer started"
}

bw_status() {
    echo "done=$(cat /tmp/bw.done 2>/dev/null | wc -l) distinct=$(sort -u /tmp/bw.done 2>/dev/null | wc -l)" \
         "errors=$(cat /tmp/bw.err 2>/dev/null | wc -l)"
    [ ! -s /tmp/bw.err ] || { head -3 /tmp/bw.err; return 1; }
}

bw_stop() {
    local i=0
    touch /tmp/bw.stop
    while [ ! -e /tmp/bw.end ]; do
        [ $i -ge 600 ] && { echo "writer did not stop within 60 s"; return 1; }
        sleep 0.1; i=$((i + 1))
    done
    bw_status
}

hold_start() {  # hold_start DEV: mount an ext2 file system on DEV and do I/O in it
    modprobe crc32c_generic && modprobe ext4 || return
    mke2fs -q /dev/$1 > /dev/null || { echo "mke2fs /dev/$1 failed"; return 1; }
    mkdir -p /mnt/$1
    mount -t ext2 /dev/$1 /mnt/$1 || return
    rm -f /tmp/hold.*
    (
        i=0
        while [ ! -e /tmp/hold.stop ]; do
            f=/mnt/$1/f$((i % 8)); s=$((600 + i))
            if pat $s 0 65536 | dd of=$f bs=65536 conv=fsync status=none 2>> /tmp/hold.errlog \
                && same_as_pattern $f $s 0 65536 direct >> /tmp/hold.errlog 2>&1; then
                echo "$(uptime_s) ok $i" >> /tmp/hold.log
            else
                echo "$(uptime_s) err $i" >> /tmp/hold.log
            fi
            i=$((i + 1))
            sleep 0.1
        done
        touch /tmp/hold.end
    ) > /dev/null 2>&1 &
    echo "mounted /dev/$1 on /mnt/$1, I/O loop started"
}

hold_status() {
    echo "ok=$(grep -c ' ok ' /tmp/hold.log) err=$(grep -c ' err ' /tmp/hold.log)" \
         "last=$(tail -1 /tmp/hold.log | tr ' ' _)"
    [ -s /tmp/hold.errlog ] && head -3 /tmp/hold.errlog
    return 0
}

hold_stop() {  # hold_stop DEV: stop the I/O and unmount
    local i=0
    touch /tmp/hold.stop
    while [ ! -e /tmp/hold.end ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    hold_status
    umount /mnt/$1 && echo "unmounted /mnt/$1"
}

discard() {  # discard DEV OFF LEN
    blkdiscard -o $2 -l $3 /dev/$1 && echo "discarded [$2, +$3) of $1"
}

zeros() {  # zeros DEV OFF LEN: does the range read back as zeros?
    if is_zero /dev/$1 $2 $3 direct; then echo "zeros=yes"; else echo "zeros=no"; fi
}

flush() {  # flush DEV OFF: a small write, fsync (a flush request) and sync
    pat 81 $2 4096 | dd of=/dev/$1 bs=4096 seek=$2 oflag=seek_bytes conv=notrunc,fsync status=none || return
    sync && blockdev --flushbufs /dev/$1 && echo "flushed $1"
}
