"""av-emotion-demo on a recording made of real samples: the whole graph's outputs shown;
media it cannot use refused in one line."""
import soundfile as sf

from av_emotion_bringup.demo import main
from av_emotion_bringup.recording import read_recording


def test_demo_shows_the_fused_timeline(data, tmp_path, capsys):
    photo = next((data / 'faces' / 'photos').glob('happy_*.jpg'))
    speech = sorted((data / 'speech' / 'ravdess' / 'happy').glob('*.flac'))[3]
    main(['--media', str(photo), str(speech), '--out', str(tmp_path)])
    printed = capsys.readouterr().out
    assert 'fused' in printed and 'happy' in printed
    assert (tmp_path / 'timeline.png').stat().st_size > 10_000
    video = read_recording([tmp_path / 'annotated.mp4'])
    source = read_recording([photo, speech])
    assert abs(video.duration - source.duration) < 0.2
    assert video.rate == source.rate and abs(video.samples).max() > 0.05
    assert (tmp_path / 'output_bag' / 'metadata.yaml').is_file()


def test_unusable_media_is_refused_in_one_line(data, tmp_path, refused):
    text = tmp_path / 'notes.mp4'
    text.write_text('a text file, not a video\n')
    empty, cut = tmp_path / 'empty.wav', tmp_path / 'cut.wav'
    empty.touch()
    speech = read_recording([next((data / 'speech' / 'ravdess' / 'sad').glob('*.flac'))])
    sf.write(str(cut), speech.samples, speech.rate)
    cut.write_bytes(cut.read_bytes()[:30])  # a download cut short in its header
    photo = data / 'faces' / 'photos' / 'single_face.jpg'
    problems = {tmp_path / 'missing.mp4': 'no such file',
                text: 'not a video or sound file that FFmpeg decodes (invalid data',
                empty: 'empty (0 bytes)', cut: 'not a sound file', photo: 'has no sound'}
    for path, problem in problems.items():
        line = refused('av-emotion-demo', '--media', path, '--out', tmp_path / 'out')
        assert line.startswith('av-emotion-demo: ') and str(path) in line and problem in line
        assert 'Errno' not in line
    assert not (tmp_path / 'out').exists()
