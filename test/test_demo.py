"""av-emotion-demo on a recording made of real samples: the whole graph's outputs shown."""
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
