"""av-emotion-eval on the real FER-2013 samples, in both folder layouts."""
import json

import pytest

from av_emotion_bringup.evaluate import main


def test_label_folders(data, tmp_path):
    out = tmp_path / 'vision.json'
    main(['vision', '--data', str(data / 'faces' / 'fer2013'), '--json', str(out)])
    result = json.loads(out.read_text())
    assert result['n'] == 35 and result['classified_whole'] == 35
    assert result['accuracy'] >= 0.5 and 0 < result['macro_f1'] <= 1
    assert len(result['confusion']) == 7 and sum(map(sum, result['confusion'])) == 35
    assert out.with_suffix('.png').stat().st_size > 10_000


def test_fer2013_usage_layout_uses_the_requested_split(data, tmp_path):
    # FER class folder names (fear, disgust, ...) under <Usage>/, as in the full data set.
    names = {'scared': 'fear', 'disgusted': 'disgust', 'surprised': 'surprise'}
    for folder in (data / 'faces' / 'fer2013').iterdir():
        target = tmp_path / 'PublicTest' / names.get(folder.name, folder.name)
        target.mkdir(parents=True)
        for image in folder.glob('*.jpg'):
            (target / image.name).symlink_to(image)
    (tmp_path / 'Training').mkdir()
    out = tmp_path / 'result.json'
    main(['vision', '--data', str(tmp_path), '--split', 'PublicTest', '--json', str(out)])
    assert json.loads(out.read_text())['n'] == 35
    with pytest.raises(SystemExit):
        main(['vision', '--data', str(tmp_path), '--json', str(out)])  # PrivateTest: absent


def test_audio_on_ravdess_samples(data, tmp_path):
    out = tmp_path / 'audio.json'
    main(['audio', '--data', str(data / 'speech' / 'ravdess'), '--json', str(out)])
    result = json.loads(out.read_text())
    assert result['n'] == 30 and result['unvoiced_clips'] == 0
    assert result['accuracy'] >= 0.3, 'well above chance (1/7) on 30 clips of unseen actors'
