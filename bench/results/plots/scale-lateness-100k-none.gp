# Redraw with: cd <this directory> && gnuplot scale-lateness-100k-none.gp
set terminal svg size 900,540 dynamic noenhanced font 'Sans,13' background rgb 'white'
set output "scale-lateness-100k-none.svg"
set title "Lateness of expiry: 100,000 null-engine leases over 60 s, store none (up to p99.9; max 6.1 ms)" font ',15'
set xlabel "revoke_credentials call − scheduled expiry: ms"
set ylabel "samples per bin"
set grid xtics ytics mxtics mytics lc rgb '#dddddd' lw 1, lc rgb '#f0f0f0' lw 1
set border 3 lc rgb '#555555'
set tics nomirror out
set datafile separator whitespace
set linetype 1 lc rgb '#0072B2' lw 2 pt 7 ps 1.1
set linetype 2 lc rgb '#D55E00' lw 2 pt 9 ps 1.1
set linetype 3 lc rgb '#009E73' lw 2 pt 11 ps 1.1
set linetype 4 lc rgb '#CC79A7' lw 2 pt 7 ps 1.1
set linetype 5 lc rgb '#E69F00' lw 2 pt 9 ps 1.1
set linetype 6 lc rgb '#56B4E9' lw 2 pt 11 ps 1.1
set linetype 7 lc rgb '#000000' lw 2 pt 7 ps 1.1
set key inside right top vertical box opaque samplen 2 spacing 1.2
set style fill solid 0.6 border lc rgb '#3a6f9a'
set boxwidth 0.03903708333 absolute
set yrange [0:51535.68]
set xrange [-0.009892666667:2.537790667]
set format y '%.1s%c'
set ytics nomirror out
plot "scale-lateness-100k-none.dat" index 0 using 1:2 with boxes lc rgb '#56B4E9' title "99,901 samples, 60 bins", \
     "scale-lateness-100k-none.dat" index 1 using 1:2 with lines lt 2 dt 2 lw 2 title "p50 = 0.154", \
     "scale-lateness-100k-none.dat" index 2 using 1:2 with lines lt 3 dt 2 lw 2 title "p99 = 0.299"
