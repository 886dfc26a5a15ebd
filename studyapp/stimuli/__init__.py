"""What a participant watches, made without Django (so it runs anywhere ffmpeg does): the stimulus
file (render: a clip's video with one soundtrack, encoded identically whatever the source), the
catch-trial anchors (anchors), and the loudness they are all normalised to (loudness).
`studyapp.services.stimuli` imports stimuli into the database with these."""
