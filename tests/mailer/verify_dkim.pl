#!/usr/bin/perl
# Verifies the DKIM signatures of the message on standard input with Perl's Mail::DKIM
# (libmail-dkim-perl), asking the DNS server at 127.0.0.1:<port> for the keys.
# One line per signature: result, d=, s=, a=, c= and the signed header names (h=, joined
# by ":"), separated by tabs. Run by tests/mailer/perl_dkim.py.
use strict;
use warnings;
use Mail::DKIM::Verifier;
use Mail::DKIM::DNS;
use Net::DNS::Resolver;

my $port = shift @ARGV or die "usage: verify_dkim.pl <dns port>\n";
my $resolver = Net::DNS::Resolver->new(
    nameservers => ['127.0.0.1'], port => $port, recurse => 1,
    retry => 2, retrans => 1, udp_timeout => 5, tcp_timeout => 5,
);
Mail::DKIM::DNS::resolver($resolver);

my $dkim = Mail::DKIM::Verifier->new();
binmode STDIN;
while (my $line = <STDIN>) {
    $line =~ s/\015?\012\z/\015\012/;
    $dkim->PRINT($line);
}
$dkim->CLOSE;
foreach my $signature ($dkim->signatures) {
    print join("\t",
        $signature->result_detail, $signature->domain, $signature->selector,
        $signature->algorithm, join("/", $signature->canonicalization),
        join(":", map { lc } $signature->headerlist)), "\n";
}
