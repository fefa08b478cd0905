"""Calendar exports: a filled-in calendar's posts, as the analyser accepts them, to iCalendar
(:mod:`.ics`), to schedulers' bulk-upload files and to CSV (:mod:`.bulk`), each format's rules
checked first (:mod:`.rules`). A layer above the analyser: :mod:`.posts` reads the calendar
through it, :mod:`.pipeline` runs an export."""
