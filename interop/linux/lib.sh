# Shared by dom0 and the guest (sourced by both /init scripts): the data
# pattern every scenario writes and checks, and a few small helpers.
#
# The pattern of a seed is as long as any disk: MiB number k of it is the
# fixed random 1 MiB file /xdg/pat.bin rotated by a (seed, k)-dependent number
# of 4 KiB blocks.  Every 512-byte sector of it is distinct, so data that lands
# at a wrong offset, or comes from another write, never matches.
XDG_PAT=${XDG_PAT:-/xdg/pat.bin}
MiB=1048576

uptime_s() { cut -d' ' -f1 /proc/uptime; }
uptime_int() { cut -d. -f1 /proc/uptime; }

# pat SEED OFF LEN: bytes [OFF, OFF+LEN) of the pattern of SEED, on stdout.
pat() {
    local s=$1 o=$2 l=$3 k e r
    k=$((o / MiB)); e=$(((o + l - 1) / MiB))
    while [ $k -le $e ]; do
        r=$(((s * 131 + k * 37) % 256))
        dd if=$XDG_PAT bs=4096 skip=$r status=none
        [ $r -gt 0 ] && dd if=$XDG_PAT bs=4096 count=$r status=none
        k=$((k + 1))
    done | tail -c +$((o % MiB + 1)) | head -c $l
}

# range FILE OFF LEN [direct]: bytes [OFF, OFF+LEN) of a file or device.
range() {
    local fl=skip_bytes,count_bytes bs=512
    [ "${4:-}" = direct ] && fl=$fl,direct
    for b in 65536 4096; do
        [ $(($2 % b)) -eq 0 ] && [ $(($3 % b)) -eq 0 ] && { bs=$b; break; }
    done
    dd if=$1 bs=$bs skip=$2 count=$3 iflag=$fl status=none
}

md5() { md5sum | cut -d' ' -f1; }

# same_as_pattern FILE SEED OFF LEN [direct]: 0 when the range holds the
# pattern; else says where the first difference is.
same_as_pattern() {
    local f=$1 s=$2 o=$3 l=$4 fl=${5:-} got exp at
    got=$(range $f $o $l $fl | md5)
    exp=$(pat $s $o $l | md5)
    [ "$got" = "$exp" ] && return 0
    range $f $o $l $fl > /tmp/xdg-got
    pat $s $o $l > /tmp/xdg-exp
    at=$(cmp /tmp/xdg-got /tmp/xdg-exp 2>&1 | sed -n 's/.*char \([0-9]*\).*/\1/p')
    if [ -n "$at" ]; then
        at=$((o + at - 1))
        echo "$f [$o, +$l) differs from pattern $s first at byte $at (sector $((at / 512)))"
    else
        echo "$f [$o, +$l): $(wc -c < /tmp/xdg-got) bytes read of $l"
    fi
    rm -f /tmp/xdg-got /tmp/xdg-exp
    return 1
}

# is_zero FILE OFF LEN [direct]: 0 when the range reads back as zeros.
is_zero() {
    [ "$(range "$@" | md5)" = "$(head -c $3 /dev/zero | md5)" ]
}
