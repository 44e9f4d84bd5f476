/**
 * A fast stand-in for mmdebstrap's `mmtarfilter`, put first on mmdebstrap's PATH. With dpkg path
 * excludes set (the vm and slim layers, `dpkg_exclude`), mmdebstrap pipes every essential package
 * through the filter before tar extracts it, one process per package. mmtarfilter is Python and
 * re-encodes every member with `tarfile`: trixie's 107 packages of examples/minimal.yaml took 36 s
 * through it and 3.3 s through this one (a node script took 0.2 s per package just to start).
 * This one is Perl, which every host with mmdebstrap has and which starts in a few milliseconds,
 * and it copies the kept members' bytes through unchanged.
 *
 * The rules are mmtarfilter's, so the tree is the same: each `--path-exclude`/`--path-include`
 * pattern, in order, is matched against the member's name without its leading "." (fnmatch: `*`
 * matches "/" too), and the last match decides. mmtarfilter's rescue of an excluded directory on
 * an included path's way compares with the translated regular expression, which starts with "(",
 * so it never keeps one: neither does this. (dpkg, which installs the same packages right after,
 * makes the directories it needs.) Any other option runs the real mmtarfilter.
 *
 * GNU long names ('L', 'K') and pax headers ('x') go or stay with the member they describe;
 * global pax headers ('g') always stay. The writer's padding after the end is read to its end, so
 * dpkg-deb never meets a closed pipe.
 */
export const TAR_FILTER = String.raw`#!/usr/bin/perl
# kiln's mmtarfilter (kiln: src/host/tar-filter.ts): dpkg path filters, members copied unchanged.
use strict;
use warnings;

my @rules;
for (my $i = 0; $i < @ARGV; $i++) {
    my ($kind, $glob) = $ARGV[$i] =~ /\A--path-(exclude|include)(?:=(.*))?\z/s;
    $glob //= $ARGV[++$i] if defined $kind;
    if (!defined $kind || !defined $glob) {
        exec '/usr/bin/mmtarfilter', @ARGV or die "mmtarfilter: $!\n";
    }
    push @rules, [$kind eq 'include', glob_re($glob)];
}

# Python's fnmatch.translate: * any run (slashes too), ? one character, [...] and [!...] sets.
sub glob_re {
    my ($g) = @_;
    my $re = '';
    for (my $i = 0; $i < length $g; $i++) {
        my $c = substr $g, $i, 1;
        if ($c eq '*') { $re .= '.*' }
        elsif ($c eq '?') { $re .= '.' }
        elsif ($c eq '[') {
            my $j = $i + 1;
            $j++ if $j < length $g && substr($g, $j, 1) eq '!';
            $j++ if $j < length $g && substr($g, $j, 1) eq ']';
            $j++ while $j < length $g && substr($g, $j, 1) ne ']';
            if ($j >= length $g) { $re .= '\[' }
            else {
                my $set = substr $g, $i + 1, $j - $i - 1;
                $set =~ s/\\/\\\\/g;
                if ($set =~ /\A!/) { substr($set, 0, 1) = '^' }
                elsif ($set =~ /\A\^/) { $set = "\\$set" }
                $re .= "[$set]";
                $i = $j;
            }
        }
        else { $re .= quotemeta $c }
    }
    return qr/\A$re\z/s;
}

sub readn {
    my ($n) = @_;
    my $buf = '';
    while (length $buf < $n) {
        my $got = sysread STDIN, $buf, $n - length $buf, length $buf;
        die "tar filter: read: $!\n" unless defined $got;
        last if $got == 0;
    }
    return $buf;
}

sub put {
    my ($data) = @_;
    for (my $off = 0; $off < length $data;) {
        my $w = syswrite STDOUT, $data, length($data) - $off, $off;
        die "tar filter: write: $!\n" unless defined $w;
        $off += $w;
    }
}

sub cstr { my ($s) = @_; $s =~ s/\0.*\z//s; return $s }

sub number {
    my ($f) = @_;
    # GNU base-256 for sizes of 8 GiB and more: the high bit of the first byte is set.
    if (ord($f) & 0x80) {
        my $n = ord($f) & 0x7f;
        $n = $n * 256 + ord for split //, substr $f, 1;
        return $n;
    }
    $f =~ s/[\0 ]+\z//;
    $f =~ s/\A\s+//;
    return oct($f eq '' ? '0' : $f);
}

my (@pending, $long, $pax);
while (1) {
    my $header = readn(512);
    last if length $header < 512 || $header =~ /\A\0{512}\z/;
    my $size = number(substr $header, 124, 12);
    my $data = readn(int(($size + 511) / 512) * 512);
    my $type = substr $header, 156, 1;
    if ($type eq 'L' || $type eq 'K' || $type eq 'x') {
        $long = cstr(substr $data, 0, $size) if $type eq 'L';
        if ($type eq 'x') {
            my $records = substr $data, 0, $size;
            for (my $at = 0; $at < length $records;) {
                my ($length) = substr($records, $at, 20) =~ /\A(\d+) /;
                last unless $length;
                $pax = $1 if substr($records, $at, $length) =~ /\A\d+ path=(.*)\n\z/s;
                $at += $length;
            }
        }
        push @pending, $header . $data;
        next;
    }
    if ($type eq 'g') { put($header . $data); next }
    # POSIX ustar splits long names into a prefix; GNU's header uses those bytes for other fields.
    my $name = $pax // $long // do {
        my $short = cstr(substr $header, 0, 100);
        my $prefix = substr($header, 257, 8) eq "ustar\x{0}00" ? cstr(substr $header, 345, 155) : '';
        $prefix eq '' ? $short : "$prefix/$short";
    };
    # Python's tarfile (so mmtarfilter) names a directory without its trailing slash.
    $name =~ s{/+\z}{} if $type eq '5' || ($type eq "\0" && $name =~ m{/\z});
    my $skip = 0;
    my $path = substr $name, 1;
    for my $rule (@rules) { $skip = !$rule->[0] if $path =~ $rule->[1] }
    put(join '', @pending, $header, $data) unless $skip;
    @pending = ();
    undef $long;
    undef $pax;
}
put("\0" x 1024);
1 while sysread STDIN, my $rest, 65536;
`;
